/** An invalid server option or fault setting; `option` names it. */
export class KmsLocalConfigError extends Error {
  /** The offending option, e.g. `rateLimit`. */
  readonly option: string;
  constructor(option: string, message: string) {
    super(`Invalid option "${option}": ${message}`);
    this.name = 'KmsLocalConfigError';
    this.option = option;
  }
}
