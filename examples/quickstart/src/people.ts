/** The users both apps write: a null and an empty string, to show each is kept exactly. */
export const PEOPLE = [
  { name: 'Ada', email: 'ada@example.com', ssn: '078-05-1120' },
  { name: 'Grace', email: 'grace@example.com', ssn: null },
  { name: 'Alan', email: 'alan@example.org', ssn: '219-09-9999' },
  { name: 'Edsger', email: 'edsger@example.nl', ssn: '' },
] as const;

/** One user as the app reads it, or as the table stores it (`dataKey` only at rest). */
export interface UserRow {
  id: number;
  name: string;
  email: string;
  ssn: string | null;
  dataKey?: string | null;
}

/** What a demo returns: the rows as stored (raw SQL) and as the app reads them (the ORM). */
export interface DemoResult {
  readonly orm: string;
  readonly stored: UserRow[];
  readonly read: UserRow[];
}
