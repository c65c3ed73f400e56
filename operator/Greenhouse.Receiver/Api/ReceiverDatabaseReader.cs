using Greenhouse.Receiver.Configuration;
using Greenhouse.Receiver.Storage;
using Grpc.Core;
using Microsoft.Data.Sqlite;

namespace Greenhouse.Receiver.Api;

/// <summary>Opens a connection for one API call that must read the database (the change log).</summary>
internal static class ReceiverDatabaseReader
{
    public static SqliteConnection Open(ReceiverOptions options)
    {
        try
        {
            return ReceiverDatabase.Open(options.DataDirectory, options.CommitTimeout);
        }
        catch (SqliteException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"the receiver database cannot be read (SQLite error {ex.SqliteErrorCode})"));
        }
    }
}
