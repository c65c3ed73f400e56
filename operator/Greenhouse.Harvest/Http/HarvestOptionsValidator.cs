using Microsoft.Extensions.Options;

namespace Greenhouse.Harvest;

/// <summary>Fails start-up with one sentence per wrong setting.</summary>
internal sealed class HarvestOptionsValidator : IValidateOptions<HarvestOptions>
{
    public ValidateOptionsResult Validate(string? name, HarvestOptions options)
    {
        var failures = new List<string>();
        if (options.BaseUrl is not { IsAbsoluteUri: true } || options.BaseUrl.Scheme is not ("https" or "http"))
        {
            failures.Add("Harvest:BaseUrl must be an absolute http(s) URL such as https://harvest.greenhouse.io/v3.");
        }

        if (options.TokenUrl is not { IsAbsoluteUri: true } || options.TokenUrl.Scheme is not ("https" or "http"))
        {
            failures.Add("Harvest:TokenUrl must be an absolute http(s) URL such as https://auth.greenhouse.io/token.");
        }

        if (options.SyncUserId is <= 0)
        {
            failures.Add("Harvest:SyncUserId must be a positive Greenhouse user id.");
        }

        if (options.ReservedBudgetShare is < 0 or > 0.9)
        {
            failures.Add("Harvest:ReservedBudgetShare must be between 0 and 0.9.");
        }

        if (options.PageSize is < 1 or > 500)
        {
            failures.Add("Harvest:PageSize must be between 1 and 500.");
        }

        if (options.AttemptTimeout <= TimeSpan.Zero || options.TotalTimeout <= TimeSpan.Zero)
        {
            failures.Add("Harvest:AttemptTimeout and Harvest:TotalTimeout must be positive.");
        }

        if (options.MaxTransientRetries < 0 || options.MaxThrottledRetries < 0)
        {
            failures.Add("Harvest:MaxTransientRetries and Harvest:MaxThrottledRetries must not be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
