using System.Diagnostics;
using Greenhouse.Receiver.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Greenhouse.Receiver.Tests;

/// <summary>What every delivery costs besides its own work: nothing started per request that no one reads.</summary>
public sealed class RequestOverheadTests
{
    [Fact]
    public async Task A_delivery_starts_no_activity_unless_hosting_logs_are_turned_on()
    {
        Assert.False(await ActivityDuringDeliveryAsync([]));
        // The default is only a default: configuration that turns Hosting's request logs back on gets them (and the Activity they carry).
        Assert.True(await ActivityDuringDeliveryAsync(["--Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics=Information"]));
    }

    private static async Task<bool> ActivityDuringDeliveryAsync(string[] args)
    {
        var seen = new List<bool>();
        var root = Directory.CreateTempSubdirectory("ghr-overhead-").FullName;
        try
        {
            await using var receiver = await TestReceiver.StartAsync(args, services => services.AddSingleton<IStartupFilter>(new Recorder(seen)), root);
            using var response = await receiver.SendAsync(ProcessorHarness.Update(1, "a@example.com"), "overhead-1");
            Assert.True(response.IsSuccessStatusCode, response.StatusCode.ToString());
        }
        finally
        {
            TempFolders.Delete(root);
        }
        Assert.Single(seen);
        return seen[0];
    }

    private sealed class Recorder(List<bool> seen) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((HttpContext context, RequestDelegate following) =>
            {
                if (HttpMethods.IsPost(context.Request.Method))
                {
                    lock (seen)
                    {
                        seen.Add(Activity.Current is not null);
                    }
                }
                return following(context);
            });
            next(app);
        };
    }
}
