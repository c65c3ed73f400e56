namespace Greenhouse.Receiver.Tests;

/// <summary>
/// Tests that measure the process's managed heap run alone: another test class running beside them
/// allocates in the same heap and would be counted as theirs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasuringTests
{
    public const string Name = "Heap measuring";
}
