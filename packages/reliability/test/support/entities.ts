import 'reflect-metadata';
import { DataKeyColumn, Encrypted } from '@fieldseal/typeorm';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A customer with encrypted text and bytes, and a plain unique `handle` the fault tests use to
 * make a batch fail halfway with a constraint violation. Types are declared: the test compiler
 * records imprecise decorator metadata.
 */
@Entity()
export class Customer {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100, unique: true }) handle!: string;
  @Encrypted({ type: 'string' }) @Column({ type: 'text' }) email!: string;
  @Encrypted({ type: 'string' }) @Column({ type: 'text', nullable: true }) ssn!: string | null;
  @Encrypted({ type: 'bytes' }) @Column({ type: 'text', nullable: true }) photo!: Buffer | null;
  @DataKeyColumn() dataKey!: string | null;
}

/** A second table, for values copied across tables. */
@Entity()
export class Note {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted({ type: 'string' }) @Column({ type: 'text' }) body!: string;
  @DataKeyColumn() dataKey!: string | null;
}

export const ENTITIES = [Customer, Note];
/** Encrypted columns per table, for raw checks. */
export const ENCRYPTED: Readonly<Record<string, readonly string[]>> = {
  customer: ['email', 'ssn', 'photo'],
  note: ['body'],
};
