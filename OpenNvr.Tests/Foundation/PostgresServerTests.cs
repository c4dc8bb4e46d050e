using Npgsql;
using OpenNvr.Tests.Infrastructure;

namespace OpenNvr.Tests.Foundation;

public sealed class PostgresServerTests
{
    [Fact]
    public async Task Each_created_database_is_a_real_empty_postgres_database()
    {
        var server = await PostgresServer.SharedAsync();

        var first = await server.CreateDatabaseAsync("probe");
        var second = await server.CreateDatabaseAsync("probe");

        Assert.NotEqual(first, second);
        await using var connection = new NpgsqlConnection(first);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", connection);
        Assert.Equal(0L, await command.ExecuteScalarAsync());
        Assert.True(connection.PostgreSqlVersion.Major >= 13);
    }
}
