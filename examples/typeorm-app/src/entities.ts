import { BlindIndex, DataKeyColumn, Encrypted } from '@fieldseal/typeorm';
import { Column, Entity, ManyToOne, OneToMany, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A customer: `email` and `ssn` are encrypted, `emailIndex` makes `findOneBy({ email })` work,
 * `dataKey` holds the row's wrapped data key. Everything else is ordinary TypeORM.
 * (Types of non-string encrypted properties are declared: tsx/esbuild emit no decorator metadata.)
 */
@Entity()
export class Customer {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @Encrypted() @Column({ type: 'text' }) email!: string;
  @BlindIndex('email', { normalize: ['trim', 'lowercase'] })
  @Column({ type: 'varchar', length: 64, nullable: true, unique: true })
  emailIndex!: string | null;
  @Encrypted() @Column({ type: 'text', nullable: true }) ssn!: string | null;
  @Encrypted({ type: 'date' }) @Column({ type: 'text', nullable: true }) birthday!: Date | null;
  @DataKeyColumn() dataKey!: string | null;
  @OneToMany(
    () => Order,
    (order) => order.customer,
    { cascade: true },
  )
  orders!: Order[];
}

/** An order: the delivery address is encrypted under the order row's own data key. */
@Entity()
export class Order {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'integer' }) totalCents!: number;
  @Encrypted() @Column({ type: 'text' }) address!: string;
  @Encrypted({ type: 'json' }) @Column({ type: 'text', nullable: true }) giftMessage!: {
    to: string;
    text: string;
  } | null;
  @DataKeyColumn() dataKey!: string | null;
  @ManyToOne(
    () => Customer,
    (customer) => customer.orders,
    { onDelete: 'CASCADE' },
  )
  customer!: Customer;
}
