-- Pools made before this migration were created with every address.
ALTER TABLE "ipam"."pools" ADD COLUMN "materialised" integer;--> statement-breakpoint
UPDATE "ipam"."pools" SET "materialised" = "size";--> statement-breakpoint
ALTER TABLE "ipam"."pools" ALTER COLUMN "materialised" SET NOT NULL;
