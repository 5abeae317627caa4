import Box from '@mui/material/Box'
import Typography from '@mui/material/Typography'
import type { ReactNode } from 'react'

interface EmptyStateProps {
  title: string
  children?: ReactNode
  icon?: ReactNode
  /** The element of the title; a page whose whole content is this state makes it its h1. */
  titleAs?: 'h1' | 'h2' | 'h3' | 'p'
}

export default function EmptyState({ title, children, icon, titleAs = 'p' }: EmptyStateProps) {
  return (
    <Box sx={{ textAlign: 'center', py: 5, px: 2, color: 'text.secondary' }}>
      {icon ? <Box sx={{ fontSize: 40, mb: 1, color: 'primary.light', '& svg': { fontSize: 'inherit' } }}>{icon}</Box> : null}
      <Typography variant="h3" component={titleAs} color="text.primary" gutterBottom>
        {title}
      </Typography>
      {children ? <Box sx={{ maxWidth: 460, mx: 'auto' }}>{children}</Box> : null}
    </Box>
  )
}
