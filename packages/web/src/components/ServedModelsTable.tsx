import Chip from '@mui/material/Chip'
import Table from '@mui/material/Table'
import TableBody from '@mui/material/TableBody'
import TableCell from '@mui/material/TableCell'
import TableContainer from '@mui/material/TableContainer'
import TableHead from '@mui/material/TableHead'
import TableRow from '@mui/material/TableRow'
import type { ServedModel } from '../api/client.ts'
import { formatMetric, METRIC_NAMES } from '../format.ts'
import ModelStatusChip from './ModelStatusChip.tsx'

export default function ServedModelsTable({ models }: { models: readonly ServedModel[] }) {
  // Focusable so keyboard users can scroll the table sideways on a phone.
  return (
    <TableContainer tabIndex={0} role="region" aria-label="Served models (scrolls sideways on narrow screens)">
      <Table size="small" aria-label="Served models">
        <TableHead>
          <TableRow>
            <TableCell scope="col">Model</TableCell>
            <TableCell scope="col">Version</TableCell>
            <TableCell scope="col">Status</TableCell>
            {METRIC_NAMES.map((metric) => (
              <TableCell key={metric} scope="col" align="right">
                {metric}
              </TableCell>
            ))}
          </TableRow>
        </TableHead>
        <TableBody>
          {models.map((model) => (
            <TableRow key={model.name} selected={model.default}>
              <TableCell component="th" scope="row" sx={{ fontWeight: 600, whiteSpace: 'nowrap' }}>
                {model.name} {model.default ? <Chip size="small" label="default" color="primary" sx={{ ml: 0.5 }} /> : null}
              </TableCell>
              <TableCell>{model.version ?? '—'}</TableCell>
              <TableCell>
                <ModelStatusChip status={model.status} />
              </TableCell>
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
