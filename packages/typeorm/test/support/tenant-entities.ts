import 'reflect-metadata';
import { Column, Entity, ManyToOne, OneToMany, PrimaryGeneratedColumn } from 'typeorm';
import { DataKeyColumn, Encrypted, Tenant } from '../../src/index.js';

/** Scoped to a string tenant (test/tenants.test.ts). */
@Entity()
export class Invoice {
  @PrimaryGeneratedColumn() id!: number;
  @Tenant() @Column({ type: 'varchar', length: 64 }) tenantId!: string;
  @Encrypted({ type: 'string' }) @Column({ type: 'text' }) memo!: string;
  @Encrypted({ type: 'string' }) @Column({ type: 'text', nullable: true }) note!: string | null;
  @DataKeyColumn() dataKey!: string | null;
  @OneToMany(
    () => InvoiceLine,
    (line) => line.invoice,
    { cascade: true },
  )
  lines!: InvoiceLine[];
}

/** Scoped to an integer tenant, saved through its parent's cascade. */
@Entity()
export class InvoiceLine {
  @PrimaryGeneratedColumn() id!: number;
  @Tenant() @Column({ type: 'int' }) shard!: number;
  @Encrypted({ type: 'string' }) @Column({ type: 'text' }) text!: string;
  @DataKeyColumn() dataKey!: string | null;
  @ManyToOne(
    () => Invoice,
    (invoice) => invoice.lines,
  )
  invoice!: Invoice;
}

/** Two tenant columns: refused when the data source is registered. */
@Entity()
export class TwoTenants {
  @PrimaryGeneratedColumn() id!: number;
  @Tenant() @Column({ type: 'varchar', length: 64 }) a!: string;
  @Tenant() @Column({ type: 'varchar', length: 64 }) b!: string;
  @Encrypted({ type: 'string' }) @Column({ type: 'text' }) memo!: string;
  @DataKeyColumn() dataKey!: string | null;
}

/** A tenant on an encrypted column: refused. */
@Entity()
export class EncryptedTenant {
  @PrimaryGeneratedColumn() id!: number;
  @Tenant() @Encrypted({ type: 'string' }) @Column({ type: 'text' }) tenantId!: string;
  @DataKeyColumn() dataKey!: string | null;
}

/** A tenant on a date column: refused. */
@Entity()
export class DateTenant {
  @PrimaryGeneratedColumn() id!: number;
  @Tenant() @Column({ type: 'date' }) day!: string;
  @Encrypted({ type: 'string' }) @Column({ type: 'text' }) memo!: string;
  @DataKeyColumn() dataKey!: string | null;
}
