import Button from '@mui/material/Button'
import Card from '@mui/material/Card'
import CardContent from '@mui/material/CardContent'
import { Link as RouterLink, useLocation } from 'react-router'
import EmptyState from '../components/EmptyState.tsx'

export default function NotFoundPage() {
  const { pathname } = useLocation()
  return (
    <Card>
      <CardContent>
        <EmptyState title="Page not found" titleAs="h1">
          Nothing lives at <code>{pathname}</code>.{' '}
          <Button component={RouterLink} to="/" size="small">
            Go to recommendations
          </Button>
        </EmptyState>
      </CardContent>
    </Card>
  )
}
