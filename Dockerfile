# One image for the three process types; the command picks web, worker or scheduler.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV NODE_ENV=development
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/server.ts"]
