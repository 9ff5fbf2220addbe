import { defaultImages } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { nameMatcher } from "./compute/server-query.ts";
import { findImage, imageUuidOf } from "./images.ts";

describe("image ids", () => {
  it("derive one UUID per AMI, the same every time, and either id finds the image", () => {
    const [first, second] = defaultImages;
    if (!first || !second) throw new Error("no images");
    const uuid = imageUuidOf(first.id);
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(imageUuidOf(first.id)).toBe(uuid);
    expect(imageUuidOf(second.id)).not.toBe(uuid);
    expect(findImage(defaultImages, uuid)).toBe(first);
    expect(findImage(defaultImages, uuid.toUpperCase())).toBe(first);
    expect(findImage(defaultImages, first.id)).toBe(first);
    expect(findImage(defaultImages, "cirros")).toBeUndefined();
  });
});

describe("the server name filter", () => {
  it("matches a substring, or anchored with ^ and $, without running the client's regex", () => {
    expect(nameMatcher("vm")("my-vm1")).toBe(true);
    expect(nameMatcher("^vm")("my-vm1")).toBe(false);
    expect(nameMatcher("^vm1$")("vm1")).toBe(true);
    expect(nameMatcher("^vm1$")("vm10")).toBe(false);
    expect(nameMatcher("1$")("vm1")).toBe(true);
    expect(nameMatcher("(a+)+b")("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")).toBe(false);
  });

  it("takes the common part of a regex: ., escapes, classes, *, + and ?, case-insensitively", () => {
    const name = "tempest-ListServerFiltersTestJSON-instance-98409460";
    expect(nameMatcher(String.raw`^.*\-instance\-[0-9]+$`)(name)).toBe(true);
    expect(nameMatcher(String.raw`^.*\-instance\-.*$`)(name)).toBe(true);
    expect(nameMatcher(String.raw`^.*\-instance\-[0-9]+$`)(`${name}x`)).toBe(false);
    expect(nameMatcher("LISTSERVER.ilters")(name)).toBe(true);
    expect(nameMatcher(String.raw`instance-\d\d?$`)("vm-instance-7")).toBe(true);
    expect(nameMatcher("^vm[^0-9]$")("vm1")).toBe(false);
    expect(nameMatcher("^vm[^0-9]$")("vmx")).toBe(true);
    expect(nameMatcher("^colou?r$")("color")).toBe(true);
    expect(nameMatcher("^a+b$")("b")).toBe(false);
    expect(nameMatcher("[unterminated")("[unterminated")).toBe(true);
  });

  it("walks a pattern in time linear in the name", () => {
    const started = performance.now();
    expect(nameMatcher(`${"a*".repeat(100)}b`)("a".repeat(255))).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
