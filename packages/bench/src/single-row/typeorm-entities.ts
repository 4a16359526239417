import 'reflect-metadata';
import { BlindIndex, DataKeyColumn, Encrypted } from '@fieldseal/typeorm';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { EncryptionTransformer } from 'typeorm-encrypted';

/** No encryption; `email` is looked up through its unique index. */
@Entity({ name: 'sr_plain' })
export class SrPlain {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @Column({ type: 'text', unique: true }) email!: string;
  @Column({ type: 'text', nullable: true }) ssn!: string | null;
  @Column({ type: 'text', nullable: true }) note!: string | null;
}

/** fieldseal: three encrypted columns, a blind index of `email`, the row's data key. */
@Entity({ name: 'sr_sealed' })
export class SrSealed {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @Encrypted() @Column({ type: 'text' }) email!: string;
  @Encrypted() @Column({ type: 'text', nullable: true }) ssn!: string | null;
  @Encrypted() @Column({ type: 'text', nullable: true }) note!: string | null;
  @BlindIndex('email')
  @Column({ type: 'varchar', length: 64, nullable: true, unique: true })
  emailIndex!: string | null;
  @DataKeyColumn() dataKey!: string | null;
}

// A fixed benchmark key (never a real one): typeorm-encrypted takes one static key from config.
const staticKey = new EncryptionTransformer({
  key: 'e41c966f21f9e1577802463f8924e6a3fe3e9751f201304213b2f845d8841d61',
  algorithm: 'aes-256-gcm',
  ivLength: 12,
});

/** typeorm-encrypted: the three columns through its `EncryptionTransformer`. */
@Entity({ name: 'sr_te' })
export class SrTe {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 40 }) name!: string;
  @Column({ type: 'text', transformer: staticKey }) email!: string;
  @Column({ type: 'text', nullable: true, transformer: staticKey }) ssn!: string | null;
  @Column({ type: 'text', nullable: true, transformer: staticKey }) note!: string | null;
}
