import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const webRoot = path.dirname(fileURLToPath(import.meta.url));
const target = process.env.VIGIL_DEV_API ?? 'http://127.0.0.1:8080';
const proxied = ['/api', '/v1', '/v2', '/healthz', '/readyz', '/metrics'];

// `npm run build:web` (from the repo root) → web/dist, served by the Vigil server at /.
export default defineConfig(({ command }) => {
  // A build is the production bundle, also when a test runner that set NODE_ENV=test runs it: any
  // other value gives React's development build, whose StrictMode mounts every effect twice.
  if (command === 'build') process.env.NODE_ENV = 'production';
  return {
    root: webRoot,
    base: '/',
    plugins: [react()],
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      chunkSizeWarningLimit: 900,
      rollupOptions: {
        output: {
          manualChunks: (id) => (/node_modules[\\/](echarts|zrender)[\\/]/.test(id) ? 'echarts' : undefined),
        },
      },
    },
    server: {
      port: 5173,
      proxy: Object.fromEntries(proxied.map((p) => [p, { target, changeOrigin: false }])),
    },
  };
});
