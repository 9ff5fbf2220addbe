import { createPrivateKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createdRsaFingerprint, generateKeyPair, parsePublicKey } from "./key-material.ts";

/**
 * A throwaway key made with `ssh-keygen -t rsa -b 2048 -m PEM`, and the fingerprints openssl and
 * ssh-keygen gave for it and for an ed25519 key, in a shell, once:
 *   openssl pkcs8 -in rsa -topk8 -nocrypt -outform DER | openssl sha1 -c        (as EC2 made it)
 *   ssh-keygen -e -f rsa.pub -m PKCS8 | openssl pkey -pubin -outform DER | openssl md5 -c   (imported)
 *   ssh-keygen -l -E sha256 -f ed.pub
 */
const rsaPrivateKey = `
-----BEGIN RSA PRIVATE KEY-----
MIIEogIBAAKCAQEAtKqlEBcnL9A9ZQrQdLk7c6IGHZvLPYcbRBqvtlTKJrvMQmAF
pa/X5ajd0eZh3f1FXyoz1nXh8hpGT2ia9Hx4Gh88KEBTDB2UYb1TbTrepFBY75ao
VoBV3R7mnOqdcfvqcOx4LUOvfWkTDY2Q4iqKPpyLAENNJaFcIL61g4iM+NmxBF/f
SAy2kV/gUbtJiEvDEzAiD67Wq+DTJSpOwgo5oO0lq+2EWhJW5dQBDlxf3YEWmFI5
bCdhMYLUaN+2V3cUaJZ9QL5FFybVLz+yT45/Ktji5YMfAgPl48s0rwom/QfdO0Ro
3EUn2/oKyT3rFF8G/nzi5kS/CQFJBD0BQT6dlQIDAQABAoIBACgfBU0PdzpdCmVY
A3cIc7V4M9d7c6UUTe/P5Vmeds4nQnMzE835wP5Vg/1LJkzAJBnAK4bi4ux6/UZB
Org0tA9JBHkD3+1+3CbgfphxTGQ9G6MJWBTtpyPV6uzKBXD8utGdEgsrTtuQ7BRE
bfpr7At/hDbou0cyEF2NPI4bUwMoJP8opK9YaeG9xtBfNkTCPrA+R09lMWGvrc18
6m9RZowYCA1N3ZiVmh9+t2M59dg4axj9Nevac2Xhm5dKCzd3FUwLiQmFN1ojkOoZ
4hn26napF6/TGjx3l+zPj3kKMEr0aRGmF5+i4vAropf9x516RaxcHpCMoNhj2JDX
yN51gUECgYEA7GRYP2D5YlrNsFY+U9nd05UDVvUe6XF3f8kfKWgTVkl5wHge5LoP
v3U+EUWYS14i7yQWhSrIT00W6nDcVZZuzOYzFX3sJ0t2JbmPrwFGr7KbclqJlWf8
qNXGS8vDcELQEnbgzdouRKCujsW8enM9SMa/EPfxbl6hRIlq26hpbb0CgYEAw6cA
amUjj2rRgB5Hr9nU6kcaMP0kuLmi7FV8z8qKib+tTEWb/BGDQ96co/BIpvInQE0S
vUcZW41MwRwdFcumtrD8fJqSNyLZMYYIKzOqwyoUTxI5tBsar45uy2WfIZUFYTFj
sEvi/O3a5anutsFApTqzP/7NtvL5GeRRSj/kkLkCgYAMtgiYv9opE8Djrn+Der+W
1PhtAJk87EEEugfW7iW8Cg9l7g+bNPYL0X4Y56kcxF8UhNhBKN/Eg9yrlo4CfChR
FD/C9BZytngP5z52ppbqc6wwJfYn9oN7gKM9CCPmMXGGzKWh7A142zsHqlJMM04k
T6uOegadbLE3Qjxgu1mP8QKBgDNmLxzEXzgxJsKSseCHyICXl1DhYAFLe3q85qIs
IoMXoO5Vpynsa+CrndkPqfZ5zUf+N3sUL5w2ncBpo1ZzfuOl0V7muJzVgduZy5GV
7DmDV3yCXDhtmnAeagrzMn//Bz/GWtsYxJQP5J7LKtRGJraBmk+on+B9KmXb7mMk
L+a5AoGATmhI3aUejSC+jKgisaCvIgqWln8vtGMHFTCwCPqWk077ZgK/oZTsxsRx
iZ1pcw3c94d5EfDK0LnT96hpuWFc1D19w6zSxh63Iym+4BxYGvo2dRWhqc6P55tP
iWERZnET+hCiVl32C8F3lxiTEo5+XsXRk5rDk/VFJevOO5reis8=
-----END RSA PRIVATE KEY-----
`;
const rsaPublicLine =
  "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC0qqUQFycv0D1lCtB0uTtzogYdm8s9hxtEGq+2VMomu8xCYAWlr9flqN3R5mHd/UVfKjPWdeHyGkZPaJr0fHgaHzwoQFMMHZRhvVNtOt6kUFjvlqhWgFXdHuac6p1x++pw7HgtQ699aRMNjZDiKoo+nIsAQ00loVwgvrWDiIz42bEEX99IDLaRX+BRu0mIS8MTMCIPrtar4NMlKk7CCjmg7SWr7YRaElbl1AEOXF/dgRaYUjlsJ2ExgtRo37ZXdxRoln1AvkUXJtUvP7JPjn8q2OLlgx8CA+XjyzSvCib9B907RGjcRSfb+grJPesUXwb+fOLmRL8JAUkEPQFBPp2V test-rsa";
const ed25519PublicLine =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGRDcDe0LPzPlMh1JSwHApk3R4n1CLAGoslnufPVabx9 test-ed";

/** The SSH strings of a blob, in order. */
function fields(blob: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < blob.length; at += 4 + blob.readUInt32BE(at))
    out.push(blob.subarray(at + 4, at + 4 + blob.readUInt32BE(at)));
  return out;
}

describe("fingerprints as EC2 shows them", () => {
  it("of an RSA key EC2 made: SHA-1 of its PKCS#8 DER", () => {
    expect(createdRsaFingerprint(createPrivateKey(rsaPrivateKey))).toBe(
      "0a:a1:1a:fe:34:a7:f4:64:53:d6:15:b6:09:bd:0b:e8:a2:ba:e0:cb",
    );
  });

  it("of an imported RSA key: MD5 of its DER SubjectPublicKeyInfo", () => {
    expect(parsePublicKey(rsaPublicLine)).toEqual({
      type: "rsa",
      line: rsaPublicLine,
      fingerprint: "3c:b6:9e:7a:0b:c8:9c:ea:7e:05:dd:c6:c1:c1:1e:34",
    });
  });

  it("of an ed25519 key: SHA-256 of its blob, base64 without padding", () => {
    expect(parsePublicKey(`  ${ed25519PublicLine}\n`)).toEqual({
      type: "ed25519",
      line: ed25519PublicLine,
      fingerprint: "AVBeCfXEDWNzWekyc8iMd0sE7ZjRk5BUgBXY12bHH2I",
    });
  });
});

describe("generateKeyPair", () => {
  it("makes RSA 2048 as PKCS#1 PEM, whose public half and fingerprint it answers", () => {
    const made = generateKeyPair("rsa", "web");
    expect(made.privateKey).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    const key = createPrivateKey(made.privateKey);
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(made.fingerprint).toBe(createdRsaFingerprint(key));
    expect(made.line).toMatch(/^ssh-rsa AAAAB3NzaC1yc2E\S+ web$/);
    expect(parsePublicKey(made.line).type).toBe("rsa");
  });

  it("makes ed25519 in OpenSSH's format, holding the public key it answers", () => {
    const made = generateKeyPair("ed25519", "web");
    const pem = made.privateKey.trim().split("\n");
    expect(pem[0]).toBe("-----BEGIN OPENSSH PRIVATE KEY-----");
    expect(pem.at(-1)).toBe("-----END OPENSSH PRIVATE KEY-----");
    const body = Buffer.from(pem.slice(1, -1).join(""), "base64");
    const magic = "openssh-key-v1\0";
    expect(body.subarray(0, magic.length).toString()).toBe(magic);
    const rest = body.subarray(magic.length);
    const [cipher, kdf, kdfOptions] = fields(rest.subarray(0, 20));
    expect(rest.readUInt32BE(20)).toBe(1);
    const [publicBlob, section] = fields(rest.subarray(24));
    expect(kdfOptions?.length).toBe(0);
    expect([cipher?.toString(), kdf?.toString()]).toEqual(["none", "none"]);
    expect(publicBlob?.toString("base64")).toBe(made.line.split(" ")[1]);
    expect(section?.readUInt32BE(0)).toBe(section?.readUInt32BE(4));
    expect((section?.length ?? 0) % 8).toBe(0);
    expect(parsePublicKey(made.line).fingerprint).toBe(made.fingerprint);
    expect(made.line.endsWith(" web")).toBe(true);
  });
});

describe("parsePublicKey refuses anything but an OpenSSH RSA or ed25519 line", () => {
  const ed25519Data = ed25519PublicLine.split(" ")[1] ?? "";
  it.each([
    ["", "only ssh-rsa"],
    ["ssh-dss AAAAB3NzaC1kc3M=", "only ssh-rsa"],
    ["-----BEGIN PUBLIC KEY-----", "only ssh-rsa"],
    ["ssh-rsa not*base64", "not base64"],
    [`ssh-rsa ${ed25519Data}`, "not an ssh-rsa key"],
    [`ssh-ed25519 ${ed25519Data.slice(0, 40)}`, "truncated"],
    [
      `ssh-ed25519 ${Buffer.concat([Buffer.from(ed25519Data, "base64"), Buffer.from([0, 0, 0, 0])]).toString("base64")}`,
      "32 bytes",
    ],
  ])("%j", (line, why) => {
    expect(() => parsePublicKey(line)).toThrow(expect.objectContaining({ code: "InvalidKey.Format" }));
    expect(() => parsePublicKey(line)).toThrow(new RegExp(why));
  });
});
