/** `tags` with `set` over them, less `remove` (a key with a value only while it has it; null: all). */
export function retagged(
  tags: Record<string, string>,
  set: Record<string, string>,
  remove: readonly { key: string; value?: string | undefined }[] | null,
): Record<string, string> {
  const kept: Record<string, string> = remove === null ? {} : { ...tags };
  for (const { key, value } of remove ?? []) if (value === undefined || kept[key] === value) delete kept[key];
  return { ...kept, ...set };
}
