process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= '/bin/true';
import { defineConfig } from 'prisma/config';
export default defineConfig({ schema: 'schema.prisma' });
