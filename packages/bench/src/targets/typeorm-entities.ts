import 'reflect-metadata';
import { DataKeyColumn, Encrypted } from '@fieldseal/typeorm';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** Three encrypted columns and the row's data key. */
@Entity({ name: 'sealed_row' })
export class SealedRow {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @Encrypted() @Column({ type: 'text' }) email!: string;
  @Encrypted() @Column({ type: 'text', nullable: true }) ssn!: string | null;
  @Encrypted() @Column({ type: 'text', nullable: true }) note!: string | null;
  @DataKeyColumn() dataKey!: string | null;
}

/** The same columns, unencrypted: the plain TypeORM peer. */
@Entity({ name: 'plain_row' })
export class PlainRow {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @Column({ type: 'text' }) email!: string;
  @Column({ type: 'text', nullable: true }) ssn!: string | null;
  @Column({ type: 'text', nullable: true }) note!: string | null;
}
