import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { Ec2Error } from "./errors.ts";
import { parseAuthorization, type SignedRequest, verifySignature } from "./sigv4.ts";

const ACCESS_KEY_ID = "AKIDCLOUDSIM000001";
const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SIGNED_AT = new Date("2024-05-06T07:08:09Z");
const BODY = "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0";

const signer = (region = "eu-west-1", applyChecksum = true) =>
  new SignatureV4({
    service: "ec2",
    region,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
    sha256: Sha256,
    applyChecksum,
  });

/** A request as the JS SDK v3 signs it, in the shape the verifier takes. */
async function signed(
  opts: {
    body?: string;
    query?: Record<string, string>;
    rawQuery?: string;
    region?: string;
    applyChecksum?: boolean;
    unsignableHeaders?: Set<string>;
  } = {},
): Promise<SignedRequest> {
  const body = opts.body ?? BODY;
  const request = await signer(opts.region, opts.applyChecksum).sign(
    {
      method: "POST",
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 4566,
      path: "/",
      query: opts.query ?? {},
      headers: { host: "127.0.0.1:4566", "content-type": "application/x-www-form-urlencoded" },
      body,
    },
    { signingDate: SIGNED_AT, unsignableHeaders: opts.unsignableHeaders },
  );
  return { method: "POST", path: "/", query: opts.rawQuery ?? "", headers: request.headers, body };
}

function verify(req: SignedRequest, secret = SECRET, now = SIGNED_AT): void {
  const auth = parseAuthorization(String(req.headers.authorization));
  if (!auth) throw new Error("unsigned");
  verifySignature(req, auth, secret, now);
}

/** The Ec2Error a call throws, as [code, status]. */
function failure(call: () => unknown): [string, number] {
  try {
    call();
  } catch (err) {
    if (err instanceof Ec2Error) return [err.code, err.status];
    throw err;
  }
  throw new Error("expected an Ec2Error");
}

const mismatch = ["SignatureDoesNotMatch", 403];
const minutes = (n: number) => new Date(SIGNED_AT.getTime() + n * 60_000);

describe("verifySignature, against @smithy/signature-v4", () => {
  it("accepts a validly signed request", async () => {
    const req = await signed();
    expect(req.headers.authorization).toContain(
      "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date",
    );
    expect(() => verify(req)).not.toThrow();
  });

  it("accepts a request signed without x-amz-content-sha256", async () => {
    const req = await signed({ applyChecksum: false });
    expect(req.headers).not.toHaveProperty("x-amz-content-sha256");
    expect(() => verify(req)).not.toThrow();
  });

  it("refuses a changed body, with or without a declared payload hash", async () => {
    for (const applyChecksum of [true, false]) {
      const req = await signed({ applyChecksum });
      expect(failure(() => verify({ ...req, body: `${BODY}&InstanceId.2=i-1` }))).toEqual(mismatch);
    }
  });

  it("refuses a changed signed header", async () => {
    const req = await signed();
    const headers = { ...req.headers, "content-type": "text/plain" };
    expect(failure(() => verify({ ...req, headers }))).toEqual(mismatch);
    expect(failure(() => verify({ ...req, headers: { ...req.headers, host: "evil.example:4566" } }))).toEqual(
      mismatch,
    );
  });

  it("tolerates whitespace a proxy may add around and inside a signed header", async () => {
    const req = await signed();
    const headers = { ...req.headers, "content-type": "  application/x-www-form-urlencoded \t" };
    expect(() => verify({ ...req, headers })).not.toThrow();
  });

  it("refuses a wrong secret", async () => {
    const req = await signed();
    expect(failure(() => verify(req, SECRET.replace("w", "W")))).toEqual(mismatch);
  });

  it("refuses an X-Amz-Date more than 15 minutes from now, either way", async () => {
    const req = await signed();
    expect(() => verify(req, SECRET, minutes(15))).not.toThrow();
    expect(() => verify(req, SECRET, minutes(-15))).not.toThrow();
    expect(failure(() => verify(req, SECRET, minutes(16)))).toEqual(["RequestExpired", 400]);
    expect(failure(() => verify(req, SECRET, minutes(-16)))).toEqual(["RequestExpired", 400]);
  });

  it("signs the query string in canonical order", async () => {
    const req = await signed({ query: { b: "2", a: "x y*" }, rawQuery: "b=2&a=x%20y%2A" });
    expect(() => verify(req)).not.toThrow();
    expect(failure(() => verify({ ...req, query: "b=3&a=x%20y%2A" }))).toEqual(mismatch);
  });

  it("verifies with the scope's region as signed, and reports it lower-cased", async () => {
    const req = await signed({ region: "US-WEST-2" });
    expect(parseAuthorization(String(req.headers.authorization))?.region).toBe("us-west-2");
    expect(() => verify(req)).not.toThrow();
  });

  it("requires host among the signed headers", async () => {
    const req = await signed({ unsignableHeaders: new Set(["host"]) });
    expect(failure(() => verify(req))).toEqual(["AuthFailure", 401]);
  });

  it("requires the scope's date to be the request's date", async () => {
    const req = await signed();
    const authorization = String(req.headers.authorization).replace("/20240506/", "/20240505/");
    expect(failure(() => verify({ ...req, headers: { ...req.headers, authorization } }))).toEqual([
      "AuthFailure",
      401,
    ]);
  });

  it("requires a well-formed date, and takes the Date header when there is no X-Amz-Date", async () => {
    const req = await signed();
    const { "x-amz-date": _, ...withoutDate } = req.headers;
    expect(failure(() => verify({ ...req, headers: withoutDate }))).toEqual(["AuthFailure", 401]);
    expect(
      failure(() => verify({ ...req, headers: { ...req.headers, "x-amz-date": "20240506T250809Z" } })),
    ).toEqual(["AuthFailure", 401]);
    const stale = { ...withoutDate, date: "Mon, 06 May 2024 06:00:00 GMT" };
    expect(failure(() => verify({ ...req, headers: stale }))).toEqual(["RequestExpired", 400]);
  });
});

// Captured from botocore 1.43.11 (`describe_instances` through a before-send hook, endpoint
// http://127.0.0.1:4566): it signs content-type;host;x-amz-date and sends no payload hash header.
const botocore: SignedRequest = {
  method: "POST",
  path: "/",
  query: "",
  headers: {
    host: "127.0.0.1:4566",
    "content-type": "application/x-www-form-urlencoded; charset=utf-8",
    "user-agent": "Botocore/1.43.11 ua/2.1 os/linux lang/python#3.11.7 cfg/retry-mode#legacy",
    "x-amz-date": "20261129T123151Z",
    authorization:
      "AWS4-HMAC-SHA256 Credential=AKIDBOTOCORE0000001/20261129/eu-west-1/ec2/aws4_request, " +
      "SignedHeaders=content-type;host;x-amz-date, " +
      "Signature=88b901ae95a14cc0667676b8716ca0331c0c92907250be666eadc7f39bad2762",
    "amz-sdk-invocation-id": "bd4e34dc-07ab-45a7-a9ed-65e7da87582b",
    "amz-sdk-request": "attempt=1",
    "content-length": "143",
  },
  body:
    "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-0123456789abcdef0" +
    "&Filter.1.Name=tag%3AEnv&Filter.1.Value.1=dev&Filter.1.Value.2=prod",
};
const BOTOCORE_SECRET = "botocore/sample+secret/0123456789abcdef";
const BOTOCORE_SIGNED_AT = new Date("2026-11-29T12:31:51Z");

describe("verifySignature, against a request botocore signed", () => {
  it("accepts it, charset in the content type and all", () => {
    expect(() => verify(botocore, BOTOCORE_SECRET, BOTOCORE_SIGNED_AT)).not.toThrow();
  });

  it("refuses it with a changed body, content type or secret", () => {
    const body = botocore.body.replace("dev", "prod");
    expect(failure(() => verify({ ...botocore, body }, BOTOCORE_SECRET, BOTOCORE_SIGNED_AT))).toEqual(
      mismatch,
    );
    const headers = { ...botocore.headers, "content-type": "application/x-www-form-urlencoded" };
    expect(failure(() => verify({ ...botocore, headers }, BOTOCORE_SECRET, BOTOCORE_SIGNED_AT))).toEqual(
      mismatch,
    );
    expect(failure(() => verify(botocore, SECRET, BOTOCORE_SIGNED_AT))).toEqual(mismatch);
  });
});

describe("parseAuthorization", () => {
  const valid =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240506/EU-West-1/ec2/aws4_request, " +
    `SignedHeaders=content-type;host;x-amz-date, Signature=${"a1".repeat(32)}`;

  it("is undefined without a header", () => {
    expect(parseAuthorization(undefined)).toBeUndefined();
  });

  it("reads the credential scope, the signed headers and the signature", () => {
    expect(parseAuthorization(valid)).toEqual({
      accessKeyId: "AKIDEXAMPLE",
      date: "20240506",
      region: "eu-west-1",
      service: "ec2",
      scope: "20240506/EU-West-1/ec2/aws4_request",
      signedHeaders: ["content-type", "host", "x-amz-date"],
      signature: "a1".repeat(32),
    });
    expect(parseAuthorization(valid.replaceAll(", ", ","))?.accessKeyId).toBe("AKIDEXAMPLE");
  });

  it.each([
    ["an empty header", ""],
    ["another scheme", "Bearer abc"],
    ["SigV2", "AWS AKIDEXAMPLE:c2lnbmF0dXJl"],
    ["no signature", valid.replace(/, Signature=.*/, "")],
    ["a short signature", valid.replace(/Signature=\w+/, "Signature=abc")],
    ["an upper-case signature", valid.replace(/Signature=\w+/, `Signature=${"A1".repeat(32)}`)],
    ["a signature with more after it", `${valid}=x`],
    ["a scope without aws4_request", valid.replace("/aws4_request", "")],
    ["a scope date that is no date", valid.replace("20240506", "2024-05-06")],
    ["empty signed headers", valid.replace("content-type;host;x-amz-date", "")],
    ["upper-case signed headers", valid.replace("host", "Host")],
    ["a component twice", `${valid}, Signature=${"b2".repeat(32)}`],
    ["an unknown component", `${valid}, Foo=bar`],
    ["more than 4096 characters", valid.replace("host", `host;${"x".repeat(4096)}`)],
  ])("refuses %s with AuthFailure", (_, header) => {
    expect(failure(() => parseAuthorization(header))).toEqual(["AuthFailure", 401]);
  });
});
