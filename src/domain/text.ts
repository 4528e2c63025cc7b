/** A UTF-16 surrogate without its pair: not a character, and PostgreSQL refuses it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text PostgreSQL can store: no NUL, no unpaired surrogate. */
export const isStorable = (text: string): boolean => !text.includes('\u0000') && !LONE_SURROGATE.test(text);

export const UNSTORABLE_REASON = 'must not contain NUL or unpaired surrogate characters';
