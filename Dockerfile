# syntax=docker/dockerfile:1
#
# The dunning service: `docker build -t dunning-service .`, or `docker compose up -d`.
# Configuration comes from environment variables only (see .env.example); .env is not copied.

# --- build: all dependencies, compile TypeScript to dist/ ---------------------------------
# Node 24, an LTS line (engines in package.json: 22.12 or later).
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Exactly the lock file: a lock out of step with package.json fails the build.
RUN npm ci --no-audit --no-fund
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies, compiled code, policies, templates, contact rules --
FROM node:24-slim AS runtime
ENV NODE_ENV=production
# Listen on every interface inside the container; the port mapping decides who can reach it.
ENV HOST=0.0.0.0
# A heap limit of several GB (V8's default on a large host) lets the heap grow to four times its
# live size between full collections; at 512 MB V8 collects at about 1.4 times, so an API or a
# worker process peaks near 200 MB of RSS rather than 400 (docs/benchmark.md). The live heap
# stays near 100 MB under the bench's load: the limit leaves it five times that. Node 22 and
# later also give the young generation far more room by default (about 100 MB more RSS per
# process on Node 24 under the bench's load); 16 MB semi-spaces keep it at Node 20's size.
ENV NODE_OPTIONS="--max-old-space-size=512 --max-semi-space-size=16"
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY policies ./policies
COPY templates ./templates
COPY compliance.yaml ./compliance.yaml
COPY qa.yaml ./qa.yaml
# The reports page's own script and style (ECharts comes with node_modules).
COPY public ./public
# The service writes only under var/: the outbox (.eml files when SMTP_URL is unset), and the
# embedded PostgreSQL's data when DATABASE_URL is unset (compose sets it).
RUN mkdir -p /app/var/outbox && chown -R node:node /app/var
USER node
EXPOSE 3000
# SIGTERM: stop taking HTTP requests and jobs, let running jobs finish, exit 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
