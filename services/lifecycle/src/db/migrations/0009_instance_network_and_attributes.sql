ALTER TABLE "lifecycle"."servers" ADD COLUMN "subnet_id" text;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "vpc_id" text;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "security_groups" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "user_data" text;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "disable_api_termination" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "disable_api_stop" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "shutdown_behavior" text DEFAULT 'stop' NOT NULL;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "source_dest_check" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "ebs_optimized" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "servers_security_groups_idx" ON "lifecycle"."servers" USING gin ("security_groups");--> statement-breakpoint
CREATE INDEX "servers_subnet_idx" ON "lifecycle"."servers" USING btree ("subnet_id") WHERE "lifecycle"."servers"."subnet_id" IS NOT NULL;