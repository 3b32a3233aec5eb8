# syntax=docker/dockerfile:1
# One image for the api, the worker and the one-shot migrate service.
# The steps are the README's: npm ci, npm run build, npm run db:migrate, npm run start:*.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/prisma-generate.mjs scripts/build-console.mjs scripts/
COPY prisma ./prisma
COPY prisma.config.ts ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
# Speech tools for the offline media pipeline (stream mode): recogniser and synthesiser.
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng sox pocketsphinx pocketsphinx-en-us \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/prisma.config.ts ./
COPY scripts/with-env.mjs scripts/
COPY config ./config
USER node
EXPOSE 3000 3001
CMD ["npm", "run", "start:api"]
