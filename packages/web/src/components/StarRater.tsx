import Box from '@mui/material/Box'
import Rating from '@mui/material/Rating'
import Typography from '@mui/material/Typography'
import { useId, useRef, useState, type KeyboardEvent } from 'react'

interface StarRaterProps {
  /** Names the star group: "Rate The Rock". */
  label: string
  onRate: (stars: number) => void
  disabled?: boolean
}

/**
 * Stars that save on a click. With the keyboard the arrows only choose (a rating is not saved
 * half way to the one meant) and Enter or Space saves.
 */
export default function StarRater({ label, onRate, disabled = false }: StarRaterProps) {
  const [pending, setPending] = useState<number | null>(null)
  const byKeyboard = useRef(false)
  const name = useId()

  function commit(stars: number | null) {
    setPending(null)
    if (stars !== null && Number.isFinite(stars) && stars > 0) onRate(stars)
  }

  function onKeyDown(event: KeyboardEvent) {
    if (event.key.startsWith('Arrow')) byKeyboard.current = true
    else if ((event.key === 'Enter' || event.key === ' ') && pending !== null) {
      event.preventDefault()
      commit(pending)
    }
  }

  return (
    <Box
      role="radiogroup"
      aria-label={label}
      onKeyDown={onKeyDown}
      onPointerDown={() => (byKeyboard.current = false)}
      sx={{ display: 'inline-flex', alignItems: 'center', gap: 1, minHeight: 44 }}
    >
      <Rating
        name={name}
        precision={0.5}
        value={pending}
        disabled={disabled}
        onChange={(_, value) => (byKeyboard.current ? setPending(value) : commit(value))}
        // 44 px stars on phones, where a finger has to hit them.
        sx={{ fontSize: { xs: '2.75rem', sm: '2rem' } }}
      />
      {pending !== null ? (
        <Typography variant="caption" color="text.secondary" aria-live="polite">
          {pending} ★ · Enter to save
        </Typography>
      ) : null}
    </Box>
  )
}
