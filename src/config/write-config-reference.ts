import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configurationMarkdown, envExample } from './config-reference';

/** `npm run docs:config`: writes docs/configuration.md and .env.example from the config schema. */
const root = process.cwd();
writeFileSync(join(root, 'docs', 'configuration.md'), configurationMarkdown());
writeFileSync(join(root, '.env.example'), envExample());
console.log('wrote docs/configuration.md and .env.example');
