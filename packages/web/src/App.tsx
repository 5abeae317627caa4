import Box from '@mui/material/Box'
import Container from '@mui/material/Container'
import Link from '@mui/material/Link'
import Typography from '@mui/material/Typography'
import { Route, Routes } from 'react-router'
import { apiBaseUrl } from './api/client.ts'
import AppHeader from './components/AppHeader.tsx'
import ModelsPage from './pages/ModelsPage.tsx'
import NewUserPage from './pages/NewUserPage.tsx'
import NotFoundPage from './pages/NotFoundPage.tsx'
import RecommendationsPage from './pages/RecommendationsPage.tsx'

export default function App() {
  return (
    <Box sx={{ minHeight: '100vh', display: 'flex', flexDirection: 'column' }}>
      <AppHeader />
      <Container component="main" maxWidth="lg" sx={{ py: { xs: 3, sm: 4 }, flexGrow: 1 }}>
        <Routes>
          <Route path="/" element={<RecommendationsPage />} />
          <Route path="/users/:userId" element={<RecommendationsPage />} />
          <Route path="/new-user" element={<NewUserPage />} />
          <Route path="/models" element={<ModelsPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </Container>
      <Box component="footer" sx={{ py: 3, textAlign: 'center', color: 'text.secondary' }}>
        <Typography variant="body2">
          MovieLens-100K · TensorFlow Recommenders · API at{' '}
          <Link href={`${apiBaseUrl()}/health`} color="inherit">
            {apiBaseUrl()}
          </Link>
        </Typography>
      </Box>
    </Box>
  )
}
