using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenNvr.Core.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class AddLeaseHandOff : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "handing_since",
                table: "recorder_leases",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "handing_to",
                table: "recorder_leases",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "handing_since",
                table: "recorder_leases");

            migrationBuilder.DropColumn(
                name: "handing_to",
                table: "recorder_leases");
        }
    }
}
