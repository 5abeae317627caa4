import Typography from '@mui/material/Typography'

export default function App() {
  return <Typography component="h1">Movie recommendations</Typography>
}
