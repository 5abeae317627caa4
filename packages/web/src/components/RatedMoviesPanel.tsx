import Card from '@mui/material/Card'
import CardContent from '@mui/material/CardContent'
import CardHeader from '@mui/material/CardHeader'
import Chip from '@mui/material/Chip'
import List from '@mui/material/List'
import ListItem from '@mui/material/ListItem'
import ListItemText from '@mui/material/ListItemText'
import Stack from '@mui/material/Stack'
import StarIcon from '@mui/icons-material/Star'
import type { UserDetail } from '../api/client.ts'
import { describeUser, displayTitle, topRated } from '../format.ts'
import EmptyState from './EmptyState.tsx'

interface RatedMoviesPanelProps {
  user: UserDetail
  limit?: number
}

export default function RatedMoviesPanel({ user, limit = 8 }: RatedMoviesPanelProps) {
  const top = topRated(user.history, limit)
  return (
    <Card component="section" aria-labelledby="rated-movies-title">
      <CardHeader
        title={`User ${user.user_id}'s top rated`}
        subheader={`${describeUser(user)} · ${user.ratings_count} ratings`}
        slotProps={{ title: { id: 'rated-movies-title', component: 'h2', variant: 'h2' } }}
      />
      <CardContent sx={{ pt: 0 }}>
        {top.length === 0 ? (
          <EmptyState title="No ratings yet">Rate a few movies and the recommendations follow at once.</EmptyState>
        ) : (
          <List dense disablePadding aria-label="Top rated movies">
            {top.map((entry) => (
              <ListItem key={entry.item_id} disableGutters divider>
                <ListItemText primary={displayTitle(entry.title)} secondary={entry.year ?? undefined} />
                <Stack direction="row" sx={{ alignItems: 'center', ml: 1 }}>
                  <Chip
                    size="small"
                    icon={<StarIcon aria-hidden />}
                    label={entry.rating.toFixed(1)}
                    aria-label={`rated ${entry.rating} of 5`}
                    color="secondary"
                    variant="outlined"
                  />
                </Stack>
              </ListItem>
            ))}
          </List>
        )}
      </CardContent>
    </Card>
  )
}
