import { XMLBuilder } from "fast-xml-parser";

export const EC2_XMLNS = "http://ec2.amazonaws.com/doc/2016-11-15/";

export type XmlScalar = string | number | boolean;
export interface XmlObject {
  [name: string]: XmlValue;
}
/** A member of a response: null and undefined leave the element out. */
export type XmlValue = XmlScalar | XmlObject | XmlList | null | undefined;

/** A list member: a wrapper with one `<item>` per entry, and an empty wrapper when empty (waiters need it). */
export class XmlList {
  constructor(readonly items: readonly (XmlScalar | XmlObject)[]) {}
}

export const xmlList = (items: readonly (XmlScalar | XmlObject)[]) => new XmlList(items);

type BuilderNode = string | { [name: string]: BuilderNode | BuilderNode[] };

// Element names come from our code only; this makes sure a client's string can never become one.
const ELEMENT_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

function elementName(name: string): string {
  if (!ELEMENT_NAME.test(name)) throw new Error(`not an EC2 XML element name: ${JSON.stringify(name)}`);
  return name;
}

// Characters XML 1.0 cannot carry even as references: C0 controls but tab, LF and CR; U+FFFE/U+FFFF; lone surrogates.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching those control characters is the point
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|\p{Cs}/gu;

/** Text as element content: escaped, and CR as a reference so that parsers do not turn it into LF. */
function xmlText(value: string): string {
  return value
    .replace(NOT_XML_CHAR, "\uFFFD")
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll("\r", "&#13;");
}

function toNode(value: XmlScalar | XmlObject | XmlList): BuilderNode {
  if (value instanceof XmlList) return value.items.length ? { item: value.items.map(toNode) } : "";
  if (typeof value !== "object") return String(value);
  const node: { [name: string]: BuilderNode } = {};
  for (const [name, member] of Object.entries(value)) {
    if (member !== null && member !== undefined) node[elementName(name)] = toNode(member);
  }
  return node;
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  // Escaping is ours (xmlText), so that CR and the characters XML cannot carry are handled too.
  processEntities: false,
  tagValueProcessor: (_name, value) => xmlText(String(value)),
});

const declaration = { "?xml": { "@_version": "1.0", "@_encoding": "UTF-8" } };

/** `<{Action}Response xmlns=…><requestId>…</requestId>…members…</{Action}Response>` (EC2.md §1.2). */
export function successXml(action: string, requestId: string, body: Record<string, XmlValue>): string {
  const members = toNode({ requestId, ...body }) as { [name: string]: BuilderNode };
  return builder.build({
    ...declaration,
    [`${elementName(action)}Response`]: { "@_xmlns": EC2_XMLNS, ...members },
  });
}

/**
 * The other Query APIs' answer (STS, IAM): the members in `<{Action}Result>` and the request id
 * in `<ResponseMetadata>`, where EC2 puts both at the root.
 */
export function queryXml(
  action: string,
  xmlns: string,
  requestId: string,
  result: Record<string, XmlValue>,
): string {
  return builder.build({
    ...declaration,
    [`${elementName(action)}Response`]: {
      "@_xmlns": xmlns,
      ...(toNode({ [`${action}Result`]: result, ResponseMetadata: { RequestId: requestId } }) as {
        [name: string]: BuilderNode;
      }),
    },
  });
}

/** The error envelope every EC2 client parses, 5xx included (EC2.md §1.3); note `RequestID`. */
export function errorXml(code: string, message: string, requestId: string): string {
  return builder.build({
    ...declaration,
    Response: toNode({ Errors: { Error: { Code: code, Message: message } }, RequestID: requestId }),
  });
}
