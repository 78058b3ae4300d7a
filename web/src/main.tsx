import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Api } from './api/client';
import { App } from './app/App';
import { ServicesProvider } from './app/context';
import { RouterProvider } from './app/router';
import { browserSession } from './auth/session';
import { browserStream } from './live/stream';
import { applyTheme, watchSystemTheme } from './ui/theme';
import './styles/app.css';

applyTheme();
watchSystemTheme();

const session = browserSession();
const api = new Api(session);
const stream = browserStream(
  () => session.token(),
  () => session.renew(),
);
void session.start();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ServicesProvider services={{ session, api, stream }}>
      <RouterProvider>
        <App />
      </RouterProvider>
    </ServicesProvider>
  </StrictMode>,
);
