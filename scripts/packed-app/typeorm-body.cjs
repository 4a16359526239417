// The TypeORM app's body, shared by its ESM and CommonJS entry points (each loads the packages
// its own way and passes them in). Decorators are applied as plain calls: this is JavaScript.
const { join } = require('node:path');

/** Saves and reads a customer; checks what is stored with raw SQL. */
exports.run = async function run({ typeorm, fieldseal, cache, keys, label }) {
  const { Column, DataSource, Entity, PrimaryGeneratedColumn } = typeorm;
  const { DataKeyColumn, Encrypted, fieldEncryption } = fieldseal;
  class Customer {}
  const decorate = (property, ...decorators) => {
    for (const decorator of decorators.reverse()) decorator(Customer.prototype, property);
  };
  decorate('id', PrimaryGeneratedColumn());
  decorate('name', Column({ type: 'varchar', length: 100 }));
  decorate('email', Encrypted(), Column({ type: 'text' }));
  decorate('dataKey', DataKeyColumn());
  Entity({ name: 'customer' })(Customer);

  const dataSource = new DataSource({
    type: 'better-sqlite3',
    database: join(keys.dataDir, `typeorm-${label}.db`),
    entities: [Customer],
    synchronize: true,
  });
  await dataSource.initialize();
  await fieldEncryption(dataSource, { keyring: new cache.CachingKeyring(keys.appKeyring()) });
  const customers = dataSource.getRepository(Customer);
  const saved = await customers.save(customers.create({ name: 'Ada', email: 'ada@example.com' }));
  const read = await customers.findOneByOrFail({ id: saved.id });
  const [stored] = await dataSource.query('SELECT email, dataKey FROM customer WHERE id = ?', [saved.id]);
  console.log('stored:', stored.email.slice(0, 24), '… app reads:', read.email);
  if (read.email !== 'ada@example.com') throw new Error('read back differs');
  if (!/^fs\d:/.test(stored.email) || !String(stored.dataKey).startsWith('fsk'))
    throw new Error(`stored value is not ciphertext: ${stored.email}`);
  await dataSource.destroy();
  console.log(`typeorm app (${label}): OK`);
};
