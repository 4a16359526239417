import 'reflect-metadata';
import {
  Column,
  CreateDateColumn,
  DeleteDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  OneToMany,
  OneToOne,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { BlindIndex, DataKeyColumn, Encrypted } from '../../src/index.js';

/** Typed encrypted values. Types are declared: the test compiler (oxc) emits imprecise metadata. */
@Entity()
export class Profile {
  @PrimaryGeneratedColumn() id!: number;
  @Encrypted({ type: 'number' }) @Column({ type: 'text', nullable: true }) age!: number | null;
  @Encrypted({ type: 'boolean' }) @Column({ type: 'text', nullable: true }) verified!: boolean | null;
  @Encrypted({ type: 'date' }) @Column({ type: 'text', nullable: true }) birthday!: Date | null;
  @Encrypted({ type: 'json' }) @Column({ type: 'text', nullable: true }) prefs!: {
    theme: string;
    tags: string[];
  } | null;
  @Encrypted({ type: 'bytes' }) @Column({ type: 'text', nullable: true }) avatar!: Buffer | null;
  @DataKeyColumn() dataKey!: string | null;
}

@Entity()
export class User {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100, default: '' }) name!: string;
  @Encrypted() @Column({ type: 'text' }) email!: string;
  @BlindIndex('email', { normalize: ['trim', 'lowercase'] })
  @Column({ type: 'varchar', length: 64, nullable: true, unique: true })
  emailIndex!: string | null;
  @Encrypted({ type: 'string' }) @Column({ type: 'text', nullable: true }) ssn!: string | null;
  @DataKeyColumn() dataKey!: string | null;
  @OneToMany(
    () => Post,
    (post) => post.author,
    { cascade: true },
  )
  posts!: Post[];
  @OneToOne(() => Profile, { cascade: true, eager: true, nullable: true })
  @JoinColumn()
  profile!: Profile | null;
  @CreateDateColumn() createdAt!: Date;
  @DeleteDateColumn() deletedAt!: Date | null;
}

@Entity()
export class Post {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100 }) title!: string;
  @Encrypted() @Column({ type: 'text' }) body!: string;
  @ManyToOne(
    () => User,
    (user) => user.posts,
    { onDelete: 'CASCADE' },
  )
  author!: User;
  @DataKeyColumn() dataKey!: string | null;
}

/** An entity with nothing encrypted, to show it is left alone. */
@Entity()
export class Tag {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 50 }) label!: string;
}

export const ENTITIES = [User, Post, Profile, Tag];
