CREATE TABLE "ipam"."elastic_ips" (
	"allocation_id" text PRIMARY KEY NOT NULL,
	"holder_id" uuid NOT NULL,
	"tenant_id" text NOT NULL,
	"region" text NOT NULL,
	"public_ip" "inet" NOT NULL,
	"association_id" text,
	"instance_id" text,
	"server_id" uuid,
	"network_interface_id" text,
	"private_ip" "inet",
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ipam"."security_group_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"group_id" text NOT NULL,
	"is_egress" boolean NOT NULL,
	"protocol" text NOT NULL,
	"from_port" integer,
	"to_port" integer,
	"cidr_ipv4" text,
	"cidr_ipv6" text,
	"referenced_group_id" text,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ipam"."security_groups" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"vpc_id" text NOT NULL,
	"region" text NOT NULL,
	"name" text NOT NULL,
	"description" text NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ipam"."subnets" (
	"id" text PRIMARY KEY NOT NULL,
	"vpc_id" text NOT NULL,
	"tenant_id" text,
	"region" text NOT NULL,
	"availability_zone" text NOT NULL,
	"cidr" text NOT NULL,
	"pool_id" text NOT NULL,
	"default_for_az" boolean DEFAULT false NOT NULL,
	"map_public_ip_on_launch" boolean DEFAULT false NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ipam"."vpcs" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text,
	"region" text NOT NULL,
	"cidr" text NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"enable_dns_support" boolean DEFAULT true NOT NULL,
	"enable_dns_hostnames" boolean DEFAULT false NOT NULL,
	"tags" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ipam"."security_group_rules" ADD CONSTRAINT "security_group_rules_group_fk" FOREIGN KEY ("group_id") REFERENCES "ipam"."security_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ipam"."security_groups" ADD CONSTRAINT "security_groups_vpc_fk" FOREIGN KEY ("vpc_id") REFERENCES "ipam"."vpcs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ipam"."subnets" ADD CONSTRAINT "subnets_vpc_fk" FOREIGN KEY ("vpc_id") REFERENCES "ipam"."vpcs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "elastic_ips_holder_key" ON "ipam"."elastic_ips" USING btree ("holder_id");--> statement-breakpoint
CREATE UNIQUE INDEX "elastic_ips_association_key" ON "ipam"."elastic_ips" USING btree ("association_id");--> statement-breakpoint
CREATE UNIQUE INDEX "elastic_ips_server_key" ON "ipam"."elastic_ips" USING btree ("server_id");--> statement-breakpoint
CREATE INDEX "elastic_ips_tenant_idx" ON "ipam"."elastic_ips" USING btree ("tenant_id","region","allocation_id");--> statement-breakpoint
CREATE UNIQUE INDEX "security_group_rules_key" ON "ipam"."security_group_rules" USING btree ("group_id","is_egress","protocol",coalesce("from_port", -1),coalesce("to_port", -1),coalesce("cidr_ipv4", ''),coalesce("cidr_ipv6", ''),coalesce("referenced_group_id", ''));--> statement-breakpoint
CREATE INDEX "security_group_rules_referenced_idx" ON "ipam"."security_group_rules" USING btree ("referenced_group_id");--> statement-breakpoint
CREATE UNIQUE INDEX "security_groups_name_key" ON "ipam"."security_groups" USING btree ("tenant_id","vpc_id","name");--> statement-breakpoint
CREATE INDEX "security_groups_tenant_idx" ON "ipam"."security_groups" USING btree ("tenant_id","region","id");--> statement-breakpoint
CREATE INDEX "subnets_vpc_idx" ON "ipam"."subnets" USING btree ("vpc_id");--> statement-breakpoint
CREATE INDEX "subnets_tenant_idx" ON "ipam"."subnets" USING btree ("tenant_id","region","id");--> statement-breakpoint
CREATE INDEX "vpcs_tenant_idx" ON "ipam"."vpcs" USING btree ("tenant_id","region","id");