import Chip from '@mui/material/Chip'
import Stack from '@mui/material/Stack'

export default function GenreChips({ genres }: { genres: readonly string[] }) {
  if (!genres.length) return null
  return (
    <Stack direction="row" useFlexGap sx={{ flexWrap: 'wrap', gap: 0.5 }} aria-label="Genres">
      {genres.map((genre) => (
        <Chip key={genre} label={genre} size="small" variant="outlined" />
      ))}
    </Stack>
  )
}
