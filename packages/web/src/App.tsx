import Box from '@mui/material/Box'
import Container from '@mui/material/Container'
import Link from '@mui/material/Link'
import Typography from '@mui/material/Typography'
import { lazy, Suspense } from 'react'
import { Route, Routes } from 'react-router'
import { apiBaseUrl } from './api/client.ts'
import AppHeader from './components/AppHeader.tsx'
import LoadingState from './components/LoadingState.tsx'
import NotFoundPage from './pages/NotFoundPage.tsx'
import RecommendationsPage from './pages/RecommendationsPage.tsx'

// Pages off the landing route load on first visit, keeping the first download small.
const ModelsPage = lazy(() => import('./pages/ModelsPage.tsx'))
const NewUserPage = lazy(() => import('./pages/NewUserPage.tsx'))

export default function App() {
  return (
    <Box sx={{ minHeight: '100vh', display: 'flex', flexDirection: 'column' }}>
      <Link
        href="#main"
        sx={{
          position: 'absolute',
          left: 8,
          top: -64,
          zIndex: 'tooltip',
          p: 1.5,
          bgcolor: 'background.paper',
          borderRadius: 1,
          boxShadow: 3,
          '&:focus': { top: 8 },
        }}
      >
        Skip to the main content
      </Link>
      <AppHeader />
      <Container component="main" id="main" tabIndex={-1} maxWidth="lg" sx={{ py: { xs: 3, sm: 4 }, flexGrow: 1, '&:focus': { outline: 'none' } }}>
        <Suspense fallback={<LoadingState label="Loading the page…" />}>
          <Routes>
            <Route path="/" element={<RecommendationsPage />} />
            <Route path="/users/:userId" element={<RecommendationsPage />} />
            <Route path="/new-user" element={<NewUserPage />} />
            <Route path="/models" element={<ModelsPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </Suspense>
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
