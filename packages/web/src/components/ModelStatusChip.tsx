import Chip from '@mui/material/Chip'

const STATUS: Record<string, { label: string; color: 'success' | 'warning' | 'error' | 'default' }> = {
  Approved: { label: 'Approved', color: 'success' },
  PendingManualApproval: { label: 'Pending approval', color: 'warning' },
  Rejected: { label: 'Rejected', color: 'error' },
}

export default function ModelStatusChip({ status }: { status: string | null }) {
  const known = status ? STATUS[status] : undefined
  return <Chip size="small" label={known?.label ?? status ?? 'unknown'} color={known?.color ?? 'default'} variant={known ? 'filled' : 'outlined'} />
}
