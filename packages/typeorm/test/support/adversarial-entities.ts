import 'reflect-metadata';
import {
  AfterInsert,
  AfterLoad,
  AfterUpdate,
  BeforeInsert,
  BeforeUpdate,
  Column,
  Entity,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { BlindIndex, DataKeyColumn, Encrypted } from '../../src/index.js';

/** Values entity listeners saw, by event, for the "listeners see plaintext" checks. */
export const seen: Record<string, unknown[]> = { afterLoad: [], afterInsert: [], afterUpdate: [] };

/** An entity whose async listeners set encrypted values after an await. */
@Entity()
export class Noted {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 50, default: '' }) label!: string;
  @Encrypted() @Column({ type: 'text', nullable: true }) secret!: string | null;
  @Encrypted() @Column({ type: 'text', nullable: true }) stamp!: string | null;
  @DataKeyColumn() dataKey!: string | null;

  @BeforeInsert()
  async stampInsert(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.stamp = `inserted-${this.label}`;
  }
  @BeforeUpdate()
  async stampUpdate(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.stamp = `updated-${this.label}`;
  }
  @AfterLoad() loaded(): void {
    seen.afterLoad?.push(this.secret);
  }
  @AfterInsert() inserted(): void {
    seen.afterInsert?.push(this.secret);
  }
  @AfterUpdate() updated(): void {
    seen.afterUpdate?.push(this.secret);
  }
}

/** An embedded entity with an encrypted field. */
export class Address {
  @Encrypted() @Column({ type: 'text', nullable: true }) street!: string | null;
  @Column({ type: 'varchar', length: 50, nullable: true }) city!: string | null;
}

@Entity()
export class Customer {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted() @Column({ type: 'text', nullable: true }) name!: string | null;
  @Column(() => Address) address!: Address;
  @DataKeyColumn() dataKey!: string | null;
}

/** A blind index without a unique constraint, so a collision can be forced at rest. */
@Entity()
export class Member {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted() @Column({ type: 'text' }) email!: string;
  @BlindIndex('email') @Column({ type: 'varchar', length: 64, nullable: true }) emailIndex!: string | null;
  @Encrypted({ type: 'number' }) @Column({ type: 'text', nullable: true }) score!: number | null;
  @DataKeyColumn() dataKey!: string | null;
}

export const ADVERSARIAL_ENTITIES = [Noted, Customer, Member];
