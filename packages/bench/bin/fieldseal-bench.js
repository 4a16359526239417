#!/usr/bin/env node
// `fieldseal-bench`: the `bench` command on its own (the fieldseal CLI mounts the same command).
// The AWS SDK warns once per process that its 2027 releases will need Node 22; not news here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { benchCommand } = await import('../dist/index.js');
await benchCommand().name('fieldseal-bench').parseAsync(process.argv);
