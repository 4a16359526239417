import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KmsLocalConfigError } from './config-error.js';
import type { KmsPolicy } from './policy.js';
import { startKmsServer } from './server.js';

const USAGE = `Usage: fieldseal-kms-local [options]

NOT FOR PRODUCTION. A local server speaking the AWS KMS JSON 1.1 protocol, for development and
tests only (key material is not protected at rest).

Options:
  --port <n>          TCP port (default 4599; 0 picks a free one)
  --host <addr>       address to bind (default 127.0.0.1; anything else prints a warning)
  --token <t>         token required for the admin API and for other machines (default: random,
                      printed; or KMS_LOCAL_TOKEN). Send "Authorization: Bearer <t>", or use it as
                      the SDK's accessKeyId
  --allowed-host <n>  also accept this Host/Origin name without the token (repeatable)
  --policy <file>     IAM policy JSON applied to cryptographic requests (kms:EncryptionContext conditions)
  --region <name>     region in key ARNs (default us-east-1)
  --data <file>       persist keys to this JSON file (mode 0600); in memory when absent
  --seed <file>       JSON seed of keys and aliases to create when missing
  --latency-ms <n>    added latency per request (default 0)
  --jitter-ms <n>     up to this much more, random (default 0)
  --rate-limit <n>    cryptographic requests per second before ThrottlingException (default 0 = off)
  -h, --help          show this help

Admin API on the same port (token required): GET /__admin/stats, GET|POST /__admin/faults,
POST /__admin/reset.`;

function number(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed))
    throw new KmsLocalConfigError(option, `"${value}" is not a number`);
  return parsed;
}

function readPolicy(file: string): KmsPolicy {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new KmsLocalConfigError('--policy', `cannot read ${file} as JSON (${(cause as Error).message})`);
  }
}

/** Runs the command line; resolves once the server listens. */
export async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      'allowed-host': { type: 'string', multiple: true },
      policy: { type: 'string' },
      region: { type: 'string' },
      data: { type: 'string' },
      seed: { type: 'string' },
      'latency-ms': { type: 'string' },
      'jitter-ms': { type: 'string' },
      'rate-limit': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const latencyMs = number('--latency-ms', values['latency-ms']);
  const jitterMs = number('--jitter-ms', values['jitter-ms']);
  const rateLimit = number('--rate-limit', values['rate-limit']);
  const token = values.token ?? process.env.KMS_LOCAL_TOKEN;
  const server = await startKmsServer({
    ...(token === undefined ? {} : { token }),
    ...(values['allowed-host'] === undefined ? {} : { allowedHosts: values['allowed-host'] }),
    ...(values.policy === undefined ? {} : { policy: readPolicy(values.policy) }),
    port: number('--port', values.port) ?? 4599,
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(values.region === undefined ? {} : { region: values.region }),
    ...(values.data === undefined ? {} : { dataFile: values.data }),
    ...(values.seed === undefined ? {} : { seedFile: values.seed }),
    faults: {
      ...(latencyMs === undefined ? {} : { latencyMs }),
      ...(jitterMs === undefined ? {} : { jitterMs }),
      ...(rateLimit === undefined ? {} : { rateLimit }),
    },
  });
  const storage = values.data === undefined ? 'in memory (lost on exit)' : `persisted to ${values.data}`;
  console.log(
    `fieldseal-kms-local listening on ${server.endpoint} (region ${server.region}, keys ${storage})`,
  );
  if (token === undefined) console.log(`kms-local token (admin API, other machines): ${server.token}`);
  const stop = () => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const expected = error instanceof KmsLocalConfigError || error instanceof TypeError;
  console.error(`fieldseal-kms-local: ${error instanceof Error ? error.message : String(error)}`);
  if (!expected && (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') console.error(error);
  console.error('Run with --help for usage.');
  process.exit(1);
});
