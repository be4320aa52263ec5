namespace Assistants.Kit;

/// <summary>Turns on the built-in tools of an <see cref="AssistantDefinition"/>.</summary>
public static class AssistantDefinitionFileExtensions
{
    /// <summary>
    /// Turns file search on and adds vector stores to search. On the Assistants protocol an assistant searches at most
    /// one vector store (a thread adds one more, see <see cref="AssistantFiles.AttachVectorStoreToThreadAsync"/>); on
    /// Responses the ids go on the <c>file_search</c> tool of every response.
    /// </summary>
    /// <param name="definition">The definition.</param>
    /// <param name="vectorStoreIds">The vector stores (e.g. <see cref="FileIngestionResult.VectorStoreId"/>).</param>
    /// <returns>The same definition.</returns>
    public static AssistantDefinition UseFileSearch(this AssistantDefinition definition, params string[] vectorStoreIds)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(vectorStoreIds);
        definition.FileSearch = true;
        foreach (var id in vectorStoreIds)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(id, nameof(vectorStoreIds));
            if (!definition.VectorStoreIds.Contains(id))
            {
                definition.VectorStoreIds.Add(id);
            }
        }

        return definition;
    }

    /// <summary>Turns code interpreter on.</summary>
    /// <param name="definition">The definition.</param>
    /// <returns>The same definition.</returns>
    public static AssistantDefinition UseCodeInterpreter(this AssistantDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        definition.CodeInterpreter = true;
        return definition;
    }
}
