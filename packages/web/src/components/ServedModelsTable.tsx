import Box from '@mui/material/Box'
import Chip from '@mui/material/Chip'
import Stack from '@mui/material/Stack'
import Table from '@mui/material/Table'
import TableBody from '@mui/material/TableBody'
import TableCell from '@mui/material/TableCell'
import TableContainer from '@mui/material/TableContainer'
import TableHead from '@mui/material/TableHead'
import TableRow from '@mui/material/TableRow'
import Typography from '@mui/material/Typography'
import useMediaQuery from '@mui/material/useMediaQuery'
import { useTheme } from '@mui/material/styles'
import type { ServedModel } from '../api/client.ts'
import { formatMetric, METRIC_NAMES, modelLabel, splitLabel } from '../format.ts'
import MetricName from './MetricName.tsx'
import ModelStatusChip from './ModelStatusChip.tsx'

function ModelName({ model }: { model: ServedModel }) {
  return (
    <>
      <Typography component="span" sx={{ fontWeight: 600 }}>
        {modelLabel(model)}
      </Typography>{' '}
      {model.default ? <Chip size="small" label="default" color="primary" sx={{ ml: 0.5 }} /> : null}
      {model.description ? (
        <Typography component="span" variant="body2" color="text.secondary" sx={{ display: 'block', fontWeight: 400 }}>
          {model.description}
        </Typography>
      ) : null}
    </>
  )
}

export default function ServedModelsTable({ models }: { models: readonly ServedModel[] }) {
  const phone = useMediaQuery(useTheme().breakpoints.down('sm'))
  if (phone) {
    // A table of seven columns does not fit a phone: one card per model, its metrics as a list.
    return (
      <Stack component="ul" spacing={1.5} aria-label="Served models" sx={{ listStyle: 'none', m: 0, p: 0 }}>
        {models.map((model) => (
          <Box component="li" key={model.name} sx={{ border: 1, borderColor: model.default ? 'primary.main' : 'divider', borderRadius: 2, p: 1.5 }}>
            <ModelName model={model} />
            <Typography component="div" variant="body2" color="text.secondary" sx={{ mt: 0.5 }}>
              Version {model.version ?? '—'} · <ModelStatusChip status={model.status} /> · on the {splitLabel(model.metrics_split)}
            </Typography>
            <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'auto auto', columnGap: 2, rowGap: 0.5, m: 0, mt: 1 }}>
              {METRIC_NAMES.map((metric) => (
                <Box key={metric} sx={{ display: 'contents' }}>
                  <Box component="dt">
                    <MetricName metric={metric} />
                  </Box>
                  <Box component="dd" sx={{ m: 0, textAlign: 'right', fontVariantNumeric: 'tabular-nums' }}>
                    {formatMetric(model.metrics[metric])}
                  </Box>
                </Box>
              ))}
            </Box>
          </Box>
        ))}
      </Stack>
    )
  }
  return (
    <TableContainer>
      <Table size="small" aria-label="Served models">
        <TableHead>
          <TableRow>
            <TableCell scope="col">Model</TableCell>
            <TableCell scope="col">Version</TableCell>
            <TableCell scope="col">Status</TableCell>
            <TableCell scope="col">Measured on</TableCell>
            {METRIC_NAMES.map((metric) => (
              <TableCell key={metric} scope="col" align="right">
                <MetricName metric={metric} />
              </TableCell>
            ))}
          </TableRow>
        </TableHead>
        <TableBody>
          {models.map((model) => (
            <TableRow key={model.name} selected={model.default}>
              <TableCell component="th" scope="row" sx={{ minWidth: 180 }}>
                <ModelName model={model} />
              </TableCell>
              <TableCell>{model.version ?? '—'}</TableCell>
              <TableCell>
                <ModelStatusChip status={model.status} />
              </TableCell>
              <TableCell>{splitLabel(model.metrics_split)}</TableCell>
              {METRIC_NAMES.map((metric) => (
                <TableCell key={metric} align="right" sx={{ fontVariantNumeric: 'tabular-nums' }}>
                  {formatMetric(model.metrics[metric])}
                </TableCell>
              ))}
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </TableContainer>
  )
}
