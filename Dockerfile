# One image for the three process types; the command picks web, worker or scheduler.
# Stage 1 compiles TypeScript to dist/ with the dev dependencies; stage 2 holds dist/ and the
# production dependencies only, and runs plain node (no tsx at run time).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install` honours the lock (`npm ci` refuses locks listing other platforms' optional packages).
RUN npm install --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.build.json

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
EXPOSE 3000
USER node
CMD ["node", "dist/src/server.js"]
