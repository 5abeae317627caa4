import Chip from '@mui/material/Chip'
import Table from '@mui/material/Table'
import TableBody from '@mui/material/TableBody'
import TableCell from '@mui/material/TableCell'
import TableContainer from '@mui/material/TableContainer'
import TableHead from '@mui/material/TableHead'
import TableRow from '@mui/material/TableRow'
import type { ModelVersion } from '../api/client.ts'
import { formatDate, formatMetric, metricsByModel } from '../format.ts'
import ModelStatusChip from './ModelStatusChip.tsx'

interface RegistryVersionsTableProps {
  versions: readonly ModelVersion[]
  /** The model whose NDCG@10 is shown first; the others follow as comparisons. */
  models: readonly string[]
}

export default function RegistryVersionsTable({ versions, models }: RegistryVersionsTableProps) {
  // Focusable so keyboard users can scroll the table sideways on a phone.
  return (
    <TableContainer tabIndex={0} role="region" aria-label="Registry versions (scrolls sideways on narrow screens)">
      <Table size="small" aria-label="Registry versions">
        <TableHead>
          <TableRow>
            <TableCell scope="col">Version</TableCell>
            <TableCell scope="col">Status</TableCell>
            <TableCell scope="col">Created</TableCell>
            {models.map((model) => (
              <TableCell key={model} scope="col" align="right">
                {model} ndcg@10
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
