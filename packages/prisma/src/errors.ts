import { type UnsupportedOperationCode, UnsupportedOperationError } from '@fieldseal/core';

// Both adapters throw core's classes, so `isUnsupportedOperationError` and `instanceof` agree
// whichever package an app imports them from.
export {
  type UnsupportedOperationCode,
  UnsupportedOperationError,
  WriteConflictError,
} from '@fieldseal/core';

/** Where a refusal applies: the model (and its table) and, when one is involved, the field. */
export interface RefusalPlace {
  readonly name: string;
  readonly table?: string;
  readonly encrypted?: ReadonlyMap<string, { readonly column: string }>;
}

/** An `UnsupportedOperationError` naming the model and field (entity/property) and their table/column. */
export function unsupported(
  code: UnsupportedOperationCode,
  message: string,
  model?: RefusalPlace,
  field?: string,
): UnsupportedOperationError {
  if (!model) return new UnsupportedOperationError(code, message);
  const column = field === undefined ? undefined : (model.encrypted?.get(field)?.column ?? field);
  return new UnsupportedOperationError(code, message, {
    entity: model.name,
    ...(field === undefined ? {} : { property: field }),
    location: { table: model.table ?? model.name, ...(column === undefined ? {} : { column }) },
  });
}
