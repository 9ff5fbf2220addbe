import { describe, expect, it } from "vitest";
import { Ec2Error } from "./errors.ts";
import { bool, filters, int, list, parseForm, str, structs, tags } from "./query.ts";

/** The Ec2Error a call throws, as [code, message]. */
function failure(call: () => unknown): [string, string] {
  try {
    call();
  } catch (err) {
    if (err instanceof Ec2Error) return [err.code, err.message];
    throw err;
  }
  throw new Error("expected an Ec2Error");
}

describe("parseForm", () => {
  it("reads a body as botocore sends it", () => {
    const p = parseForm(
      "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3AEnv&Filter.1.Value.1=dev+ops&Empty=",
    );
    expect(p.get("Action")).toBe("DescribeInstances");
    expect(p.get("Filter.1.Name")).toBe("tag:Env");
    expect(p.get("Filter.1.Value.1")).toBe("dev ops");
    expect(p.get("Empty")).toBe("");
  });

  it("refuses a parameter given twice, naming it", () => {
    expect(failure(() => parseForm("InstanceId.1=i-1&InstanceId.1=i-2"))).toEqual([
      "InvalidParameterValue",
      "Value (i-2) for parameter InstanceId.1 is invalid. The parameter appears more than once.",
    ]);
  });

  it("takes 10000 parameters and refuses more, naming the limit", () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `P${i}=x`).join("&");
    expect(parseForm(body(10_000)).size).toBe(10_000);
    expect(failure(() => parseForm(body(10_001)))).toEqual([
      "InvalidParameterValue",
      "The request has more than 10000 parameters.",
    ]);
  });
});

describe("str", () => {
  const p = parseForm("ImageId=ami-1&Empty=&Long=abcdef");
  it("reads a value, or undefined", () => {
    expect(str(p, "ImageId", { required: true })).toBe("ami-1");
    expect(str(p, "Nope")).toBeUndefined();
  });
  it("asks for a required parameter that is absent or empty", () => {
    expect(failure(() => str(p, "InstanceType", { required: true }))).toEqual([
      "MissingParameter",
      "The request must contain the parameter InstanceType",
    ]);
    expect(failure(() => str(p, "Empty", { required: true }))[0]).toBe("MissingParameter");
  });
  it("limits the length", () => {
    expect(str(p, "Long", { max: 6 })).toBe("abcdef");
    expect(failure(() => str(p, "Long", { max: 5 }))).toEqual([
      "InvalidParameterValue",
      "Value (abcdef) for parameter Long is invalid. It must be at most 5 characters long.",
    ]);
  });
});

describe("int", () => {
  const range = { min: 5, max: 1000 };
  it.each([
    ["5", 5],
    ["1000", 1000],
    ["0042", 42],
  ])("reads %s", (text, n) => {
    expect(int(parseForm(`MaxResults=${text}`), "MaxResults", range)).toBe(n);
  });
  it.each(["4", "1001", "-5", "5.0", "1e3", "", " 5", "0x10", "99999999999999999999"])(
    "refuses %j",
    (text) => {
      expect(
        failure(() => int(parseForm(`MaxResults=${encodeURIComponent(text)}`), "MaxResults", range)),
      ).toEqual([
        "InvalidParameterValue",
        `Value (${text}) for parameter MaxResults is invalid. Expecting an integer from 5 to 1000.`,
      ]);
    },
  );
  it("is absent or required", () => {
    expect(int(parseForm(""), "MaxResults", range)).toBeUndefined();
    expect(failure(() => int(parseForm(""), "MinCount", { min: 1, max: 100, required: true }))[0]).toBe(
      "MissingParameter",
    );
  });
});

describe("bool", () => {
  it("takes only true and false", () => {
    expect(bool(parseForm("DryRun=true"), "DryRun")).toBe(true);
    expect(bool(parseForm("DryRun=false"), "DryRun")).toBe(false);
    expect(bool(parseForm(""), "DryRun")).toBeUndefined();
    expect(failure(() => bool(parseForm("DryRun=True"), "DryRun"))).toEqual([
      "InvalidParameterValue",
      "Value (True) for parameter DryRun is invalid. Expecting true or false.",
    ]);
  });
});

describe("list", () => {
  it("returns the values in index order, not in body order", () => {
    const p = parseForm(`InstanceId.2=i-2&InstanceId.10=i-10&InstanceId.1=i-1&${range(3, 9, "InstanceId")}`);
    expect(list(p, "InstanceId", { max: 100 })).toEqual([
      "i-1",
      "i-2",
      ...Array.from({ length: 7 }, (_, i) => `i-${i + 3}`),
      "i-10",
    ]);
  });
  it("is empty when absent, and ignores other names", () => {
    expect(
      list(parseForm("InstanceIdX.1=a&InstanceId=b&InstanceId.1.Key=c"), "InstanceId", { max: 5 }),
    ).toEqual([]);
  });
  it("names the first missing index", () => {
    expect(
      failure(() =>
        list(parseForm("InstanceId.1=a&InstanceId.3=c&InstanceId.4=d"), "InstanceId", { max: 9 }),
      ),
    ).toEqual(["MissingParameter", "The request must contain the parameter InstanceId.2"]);
  });
  it.each(["0", "01", "x", "-1", ""])("refuses the index %j", (index) => {
    expect(failure(() => list(parseForm(`InstanceId.${index}=a`), "InstanceId", { max: 9 }))[1]).toBe(
      `Value (a) for parameter InstanceId.${index} is invalid. ${index} is not a list index from 1.`,
    );
  });
  it("takes at most max values", () => {
    expect(list(parseForm(range(1, 3, "InstanceId")), "InstanceId", { max: 3 })).toHaveLength(3);
    expect(failure(() => list(parseForm(range(1, 4, "InstanceId")), "InstanceId", { max: 3 }))).toEqual([
      "InvalidParameterValue",
      "Value (i-4) for parameter InstanceId.4 is invalid. InstanceId takes at most 3 values.",
    ]);
  });
  it("refuses a huge index without counting up to it", () => {
    expect(
      failure(() => list(parseForm("InstanceId.99999999999999999999=a"), "InstanceId", { max: 3 }))[1],
    ).toContain("at most 3");
  });
});

/** `Name.from=i-from&…&Name.to=i-to` */
function range(from: number, to: number, name: string): string {
  return Array.from({ length: to - from + 1 }, (_, i) => `${name}.${from + i}=i-${from + i}`).join("&");
}

describe("structs", () => {
  it("groups the members of each struct, named below it", () => {
    const p = parseForm("Tag.2.Key=b&Tag.1.Key=a&Tag.1.Value=1");
    const [first, second, ...rest] = structs(p, "Tag", { max: 5 });
    expect(rest).toEqual([]);
    expect(Object.fromEntries(first ?? [])).toEqual({ Key: "a", Value: "1" });
    expect(Object.fromEntries(second ?? [])).toEqual({ Key: "b" });
    expect(first?.scope).toBe("Tag.1");
  });

  it("reads nested lists of structs, and names nested parameters in full", () => {
    const p = parseForm(
      "TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web" +
        "&TagSpecification.1.Tag.3.Key=Env",
    );
    const [spec] = structs(p, "TagSpecification", { max: 5 });
    if (!spec) throw new Error("no TagSpecification");
    expect(str(spec, "ResourceType")).toBe("instance");
    expect(failure(() => tags(spec, "Tag"))).toEqual([
      "MissingParameter",
      "The request must contain the parameter TagSpecification.1.Tag.2",
    ]);
  });

  it("names the missing struct", () => {
    expect(failure(() => structs(parseForm("Filter.2.Name=x"), "Filter", { max: 5 }))[1]).toBe(
      "The request must contain the parameter Filter.1",
    );
  });
});

describe("filters", () => {
  it("reads names with their values", () => {
    const p = parseForm(
      "Filter.1.Name=tag%3AEnv&Filter.1.Value.1=dev&Filter.1.Value.2=prod&Filter.2.Name=instance-state-name&Filter.2.Value.1=running",
    );
    expect(filters(p)).toEqual([
      { name: "tag:Env", values: ["dev", "prod"] },
      { name: "instance-state-name", values: ["running"] },
    ]);
  });
  it("requires a Name, named in full", () => {
    expect(failure(() => filters(parseForm("Filter.1.Value.1=x")))).toEqual([
      "MissingParameter",
      "The request must contain the parameter Filter.1.Name",
    ]);
  });
  it("takes at most 50 filters and 200 values by default", () => {
    expect(failure(() => filters(parseForm("Filter.51.Name=x")))[1]).toContain(
      "Filter takes at most 50 values",
    );
    expect(failure(() => filters(parseForm("Filter.1.Name=x&Filter.1.Value.201=y")))[1]).toContain(
      "Filter.1.Value takes at most 200 values",
    );
  });
});

describe("tags", () => {
  it("tells an absent Value from an empty one", () => {
    expect(tags(parseForm("Tag.1.Key=Env&Tag.2.Key=Name&Tag.2.Value="), "Tag")).toEqual([
      { key: "Env", value: undefined },
      { key: "Name", value: "" },
    ]);
  });
  it("requires a Key and limits key and value lengths", () => {
    expect(failure(() => tags(parseForm("Tag.1.Value=x"), "Tag"))[1]).toBe(
      "The request must contain the parameter Tag.1.Key",
    );
    expect(failure(() => tags(parseForm(`Tag.1.Key=${"k".repeat(128)}`), "Tag"))[1]).toContain("Tag.1.Key");
    expect(failure(() => tags(parseForm(`Tag.1.Key=k&Tag.1.Value=${"v".repeat(257)}`), "Tag"))[1]).toContain(
      "Tag.1.Value",
    );
  });
});
