import type { IncomingMessage, ServerResponse } from 'node:http';
import sirv from 'sirv';

/**
 * Serves the built app. sirv (small, well kept) gives MIME types, ranges and
 * ETags; `single` answers unknown extensionless paths with index.html so
 * client-side URLs survive a reload, while a missing `/x.js` stays a 404.
 */
export function staticFiles(dir: string): (req: IncomingMessage, res: ServerResponse) => void {
  const serve = sirv(dir, {
    single: true,
    etag: true,
    setHeaders(res, pathname) {
      // Vite puts a content hash in every name under /assets; the rest must revalidate.
      res.setHeader('Cache-Control', pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  return (req, res) =>
    serve(req, res, () => {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    });
}
