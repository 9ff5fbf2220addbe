import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { errorXml, successXml, xmlList } from "./xml.ts";

// Parsed the way the JS SDK v3 parses EC2 responses: text kept verbatim, nothing turned into numbers,
// character references (`&#13;`) decoded.
const parser = new XMLParser({
  htmlEntities: true,
  ignoreAttributes: false,
  ignoreDeclaration: true,
  trimValues: false,
  parseTagValue: false,
  isArray: (name) => name === "item",
});
const parse = (xml: string) => {
  expect(XMLValidator.validate(xml)).toBe(true);
  return parser.parse(xml);
};

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

describe("successXml", () => {
  it("puts requestId and the members under {Action}Response, in the EC2 namespace", () => {
    expect(successXml("RebootInstances", "req-1", { return: true })).toBe(
      `${DECLARATION}<RebootInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">` +
        "<requestId>req-1</requestId><return>true</return></RebootInstancesResponse>",
    );
  });

  it("renders lists as <item>s, nested objects, numbers and lowercase booleans, and leaves out null", () => {
    const xml = successXml("RunInstances", "req-2", {
      reservationId: "r-1",
      groupSet: xmlList([]),
      instancesSet: xmlList([
        {
          instanceId: "i-1",
          instanceState: { code: 0, name: "pending" },
          ebsOptimized: false,
          ipAddress: null,
          dnsName: undefined,
          tagSet: xmlList([{ key: "Name", value: "" }]),
        },
      ]),
      ids: xmlList(["a", "b"]),
    });
    expect(xml).toContain("<groupSet></groupSet>");
    expect(xml).toContain("<ebsOptimized>false</ebsOptimized>");
    expect(xml).not.toContain("ipAddress");
    expect(xml).not.toContain("dnsName");
    expect(parse(xml).RunInstancesResponse).toEqual({
      "@_xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/",
      requestId: "req-2",
      reservationId: "r-1",
      groupSet: "",
      instancesSet: {
        item: [
          {
            instanceId: "i-1",
            instanceState: { code: "0", name: "pending" },
            ebsOptimized: "false",
            tagSet: { item: [{ key: "Name", value: "" }] },
          },
        ],
      },
      ids: { item: ["a", "b"] },
    });
  });

  it("keeps an empty list as an element, so that waiters find it", () => {
    const xml = successXml("DescribeInstances", "req-3", { reservationSet: xmlList([]) });
    expect(parse(xml).DescribeInstancesResponse).toHaveProperty("reservationSet", "");
  });

  it("carries hostile values and control characters through unchanged", () => {
    const hostile = `</value><x>&"'${"]]>"} &amp; <![CDATA[x]]> <!-- c --> \t\n\r\n end `;
    const xml = successXml("DescribeTags", "req-4", { tagSet: xmlList([{ key: "k", value: hostile }]) });
    expect(xml).not.toContain("<x>");
    expect(parse(xml).DescribeTagsResponse.tagSet.item[0].value).toBe(hostile);
  });

  it("replaces the characters XML 1.0 cannot carry with U+FFFD", () => {
    const forbidden = [
      "\u0000",
      "\u0008",
      "\u000B",
      "\u000C",
      "\u000E",
      "\u001F",
      "\uFFFE",
      "\uFFFF",
      "\uD800",
      "\uDFFF",
    ];
    const xml = successXml("DescribeTags", "req-5", {
      values: xmlList(forbidden.map((c) => `a${c}b`)),
      allowed: "é 😀 \u007F \u0085",
    });
    const parsed = parse(xml).DescribeTagsResponse;
    expect(parsed.values.item).toEqual(forbidden.map(() => "a\uFFFDb"));
    expect(parsed.allowed).toBe("é 😀 \u007F \u0085");
  });

  it.each(["tag-name", "a b", "x><y", "1st", "", "ns:name", "@_xmlns", "#text", "é"])(
    "refuses %j as an element name",
    (name) => {
      expect(() => successXml("DescribeTags", "req-6", { [name]: "v" })).toThrow(
        /not an EC2 XML element name/,
      );
      expect(() => successXml("DescribeTags", "req-6", { nested: xmlList([{ [name]: "v" }]) })).toThrow(
        /not an EC2 XML element name/,
      );
    },
  );

  it("refuses an action that is not a plain name", () => {
    expect(() => successXml("Run><x", "req-7", {})).toThrow(/not an EC2 XML element name/);
  });
});

describe("errorXml", () => {
  it("writes the envelope every client parses, with RequestID", () => {
    expect(errorXml("InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist", "req-8")).toBe(
      `${DECLARATION}<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>` +
        "<Message>The instance ID 'i-1' does not exist</Message></Error></Errors><RequestID>req-8</RequestID></Response>",
    );
  });

  it("escapes a message that echoes a client's value", () => {
    const message = "Value (</Message><Code>x</Code>) for parameter ImageId is invalid. \u0001";
    expect(parse(errorXml("InvalidParameterValue", message, "req-9")).Response.Errors.Error).toEqual({
      Code: "InvalidParameterValue",
      Message: message.replace("\u0001", "\uFFFD"),
    });
  });
});
