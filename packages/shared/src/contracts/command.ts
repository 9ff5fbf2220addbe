import type { z } from "zod";

const token = /^[a-z][a-z0-9_-]*$/;

/** Builds a NATS subject from tokens, refusing wildcards, dots and empty tokens. */
export function subject(...tokens: string[]): string {
  for (const t of tokens) {
    if (!token.test(t))
      throw new Error(`invalid subject token "${t}": lower-case letters, digits, _ and - only`);
  }
  return tokens.join(".");
}

/** A request/reply message: its subject, the service whose queue group answers it, and both schemas. */
export interface Command<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  readonly service: string;
  readonly subject: string;
  readonly request: Req;
  readonly reply: Res;
}

export type RequestOf<C extends Command> = z.infer<C["request"]>;
export type RequestInputOf<C extends Command> = z.input<C["request"]>;
export type ReplyOf<C extends Command> = z.infer<C["reply"]>;

/** `<service>.<verb>`, answered by the queue group named after the service. */
export function defineCommand<Req extends z.ZodType, Res extends z.ZodType>(
  service: string,
  verb: string,
  schemas: { request: Req; reply: Res },
): Command<Req, Res> {
  return { service, subject: subject(service, verb), ...schemas };
}
