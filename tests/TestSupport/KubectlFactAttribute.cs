using Xunit;

namespace Greenhouse.Testing;

/// <summary>A fact that drives the real kubectl: skipped, with the reason shown, when kubectl is not on PATH.</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (ExternalTool.Kubectl is null)
        {
            Skip = "kubectl is not on PATH (CI installs it with apt-get install kubectl)";
        }
    }
}
