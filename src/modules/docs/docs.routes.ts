import fs from 'node:fs';
import path from 'node:path';
import { ApiRouter } from '../../http/api-router';
import { AppError } from '../../lib/errors';
import { ASSETS, assetFileParams, openApiOut } from './docs.schemas';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const swaggerUiDir: string = require('swagger-ui-dist').getAbsoluteFSPath();

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>P2P lending API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
</head>
<body>
  <div id="ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>`;
const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', deepLinking: true });`;

/**
 * GET /openapi.json (built from every registered route's spec, once) and GET /docs (Swagger UI,
 * served from the swagger-ui-dist package: no CDN needed).
 */
export function docsRoutes(document: () => object): ApiRouter {
  let doc: object | undefined;
  const router = new ApiRouter();
  return router
    .route(
      {
        method: 'get',
        path: '/openapi.json',
        summary: 'This OpenAPI 3.1 document',
        tags: ['docs'],
        auth: 'none',
        responses: { 200: { description: 'the document', schema: openApiOut } },
      },
      async (ctx) => {
        doc ??= document();
        ctx.body = doc;
      },
    )
    .route(
      {
        method: 'get',
        path: '/docs',
        summary: 'Readable API documentation (Swagger UI)',
        tags: ['docs'],
        auth: 'none',
        responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
      },
      async (ctx) => {
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = PAGE;
      },
    )
    .route(
      {
        method: 'get',
        path: '/docs/init.js',
        summary: 'Swagger UI start-up script',
        tags: ['docs'],
        auth: 'none',
        responses: { 200: { description: 'script', contentType: 'application/javascript' } },
      },
      async (ctx) => {
        ctx.type = 'application/javascript; charset=utf-8';
        ctx.body = INIT;
      },
    )
    .route(
      {
        method: 'get',
        path: '/docs/assets/:file',
        summary: 'Swagger UI assets',
        tags: ['docs'],
        auth: 'none',
        request: {
          params: assetFileParams,
        },
        responses: {
          200: { description: 'asset (JavaScript, CSS or PNG)', contentType: '*/*' },
          404: { description: 'no such asset' },
        },
      },
      async (ctx) => {
        const file = (ctx.state.params as { file: string }).file;
        const type = ASSETS[file];
        if (!type) throw new AppError('NOT_FOUND', 'no such asset');
        ctx.type = type;
        ctx.set('Cache-Control', 'public, max-age=86400');
        ctx.body = fs.createReadStream(path.join(swaggerUiDir, file));
      },
    );
}
