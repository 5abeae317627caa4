import Box from '@mui/material/Box'
import Tooltip from '@mui/material/Tooltip'
import { METRIC_HELP, METRIC_NAMES } from '../format.ts'

/** A metric's name with what it means on hover or keyboard focus. */
export default function MetricName({ metric }: { metric: (typeof METRIC_NAMES)[number] }) {
  const { label, help } = METRIC_HELP[metric]
  return (
    <Tooltip title={help} describeChild enterTouchDelay={0}>
      <Box component="span" tabIndex={0} sx={{ textDecoration: 'underline dotted', textUnderlineOffset: 3, cursor: 'help' }}>
        {label}
      </Box>
    </Tooltip>
  )
}
