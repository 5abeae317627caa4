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
import type { ModelVersion } from '../api/client.ts'
import { formatDate, formatMetric, metricsByModel, splitLabel } from '../format.ts'
import MetricName from './MetricName.tsx'
import ModelStatusChip from './ModelStatusChip.tsx'

interface RegistryVersionsTableProps {
  versions: readonly ModelVersion[]
  /** The models whose NDCG@10 is shown, first the served ones, by technical name. */
  models: readonly string[]
  /** A model's name in plain words. */
  labelOf: (model: string) => string
}

export default function RegistryVersionsTable({ versions, models, labelOf }: RegistryVersionsTableProps) {
  const phone = useMediaQuery(useTheme().breakpoints.down('sm'))
  if (phone) {
    return (
      <Stack component="ul" spacing={1.5} aria-label="Registry versions" sx={{ listStyle: 'none', m: 0, p: 0 }}>
        {versions.map((version) => {
          const metrics = metricsByModel(version.metrics)
          return (
            <Box component="li" key={version.version} sx={{ border: 1, borderColor: version.serving ? 'primary.main' : 'divider', borderRadius: 2, p: 1.5 }}>
              <Typography component="div" sx={{ fontWeight: 600 }}>
                v{version.version} {version.serving ? <Chip size="small" label="serving" color="primary" sx={{ ml: 0.5 }} /> : null}{' '}
                <ModelStatusChip status={version.status} />
              </Typography>
              <Typography variant="body2" color="text.secondary">
                {formatDate(version.created_at)} · on the {splitLabel(version.metrics_split)}
              </Typography>
              <Box component="dl" sx={{ display: 'grid', gridTemplateColumns: 'auto auto', columnGap: 2, rowGap: 0.5, m: 0, mt: 1 }}>
                {models.map((model) => (
                  <Box key={model} sx={{ display: 'contents' }}>
                    <Box component="dt">
                      {labelOf(model)} <MetricName metric="ndcg@10" />
                    </Box>
                    <Box component="dd" sx={{ m: 0, textAlign: 'right', fontVariantNumeric: 'tabular-nums' }}>
                      {formatMetric(metrics[model]?.['ndcg@10'])}
                    </Box>
                  </Box>
                ))}
              </Box>
            </Box>
          )
        })}
      </Stack>
    )
  }
  return (
    <TableContainer>
      <Table size="small" aria-label="Registry versions">
        <TableHead>
          <TableRow>
            <TableCell scope="col">Version</TableCell>
            <TableCell scope="col">Status</TableCell>
            <TableCell scope="col">Created</TableCell>
            <TableCell scope="col">Measured on</TableCell>
            {models.map((model) => (
              <TableCell key={model} scope="col" align="right">
                {labelOf(model)} <MetricName metric="ndcg@10" />
              </TableCell>
            ))}
          </TableRow>
        </TableHead>
        <TableBody>
          {versions.map((version) => {
            const metrics = metricsByModel(version.metrics)
            return (
              <TableRow key={version.version} selected={version.serving}>
                <TableCell component="th" scope="row" sx={{ fontWeight: 600, whiteSpace: 'nowrap' }}>
                  v{version.version} {version.serving ? <Chip size="small" label="serving" color="primary" sx={{ ml: 0.5 }} /> : null}
                </TableCell>
                <TableCell>
                  <ModelStatusChip status={version.status} />
                </TableCell>
                <TableCell sx={{ whiteSpace: 'nowrap' }}>{formatDate(version.created_at)}</TableCell>
                <TableCell>{splitLabel(version.metrics_split)}</TableCell>
                {models.map((model) => (
                  <TableCell key={model} align="right" sx={{ fontVariantNumeric: 'tabular-nums' }}>
                    {formatMetric(metrics[model]?.['ndcg@10'])}
                  </TableCell>
                ))}
              </TableRow>
            )
          })}
        </TableBody>
      </Table>
    </TableContainer>
  )
}
